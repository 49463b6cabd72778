"""Evaluation sets: members.json, questions.json and qrels.json in one directory.

The schema is the one of ``../shared/data/dev`` (see its README). ``load_dataset`` validates
everything it reads and names the file, the record and the field of every problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from service.text import fold

MEMBERS_FILE = "members.json"
QUESTIONS_FILE = "questions.json"
QRELS_FILE = "qrels.json"
GRADES = (0, 1, 2, 3)


class DatasetError(ValueError):
    """An evaluation set that cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class DatasetMember:
    id: str
    name: str
    municipality: str
    state: str
    municipality_type: str | None
    role: str
    expertise: str
    tags: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def municipality_key(self) -> tuple[str, str]:
        """Same municipality means same name and state, normalized."""
        return (fold(self.municipality), fold(self.state))


@dataclass(frozen=True, slots=True)
class DatasetQuestion:
    id: str
    asker_id: str
    title: str
    body: str
    tags: tuple[str, ...]
    language: str | None


@dataclass(frozen=True, slots=True)
class Dataset:
    members: tuple[DatasetMember, ...]
    questions: tuple[DatasetQuestion, ...]
    qrels: Mapping[str, Mapping[str, int]]  # question id -> member id -> grade (absent: 0)

    def member(self, member_id: str) -> DatasetMember:
        for member in self.members:
            if member.id == member_id:
                return member
        raise KeyError(member_id)

    def eligible_grades(self, question: DatasetQuestion) -> dict[str, int]:
        """The judgments a matcher can reach: the asker's own municipality (the asker
        included) is never suggested, so its grades never count."""
        asker = self.member(question.asker_id)
        return {
            member_id: grade
            for member_id, grade in self.qrels.get(question.id, {}).items()
            if self.member(member_id).municipality_key != asker.municipality_key
        }


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error})") from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 ({error})") from error


def _records(path: Path) -> list[dict[str, object]]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of objects")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise DatasetError(f"{path}[{index}]: expected an object")
    return data


def _text(record: Mapping[str, object], key: str, where: str, *, required: bool = True) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise DatasetError(f"{where}: field {key!r} must be a non-empty string")
    return value


def _strings(record: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DatasetError(f"{where}: field {key!r} must be a list of strings")
    return tuple(value)


def _identified(path: Path, kind: str) -> Iterator[tuple[str, str, dict[str, object]]]:
    """Each record of the file with its id and where it is (``members.json[3] (member m4)``,
    for messages); an id given twice is an error."""
    seen: set[str] = set()
    for index, record in enumerate(_records(path)):
        record_id = _text(record, "id", f"{path}[{index}]")
        where = f"{path}[{index}] ({kind} {record_id})"
        if record_id in seen:
            raise DatasetError(f"{where}: duplicate {kind} id")
        seen.add(record_id)
        yield record_id, where, record


def _optional_text(record: Mapping[str, object], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise DatasetError(f"{where}: field {key!r} must be a string or null")
    return value


def _members(path: Path) -> tuple[DatasetMember, ...]:
    return tuple(
        DatasetMember(
            id=member_id,
            name=_text(record, "name", where),
            municipality=_text(record, "municipality", where),
            state=_text(record, "state", where),
            municipality_type=_optional_text(record, "municipality_type", where) or None,
            role=_text(record, "role", where, required=False),
            expertise=_text(record, "expertise", where),
            tags=_strings(record, "tags", where),
            languages=_strings(record, "languages", where),
        )
        for member_id, where, record in _identified(path, "member")
    )


def _questions(path: Path, member_ids: set[str]) -> tuple[DatasetQuestion, ...]:
    questions: list[DatasetQuestion] = []
    for question_id, where, record in _identified(path, "question"):
        asker_id = _text(record, "asker_id", where)
        if asker_id not in member_ids:
            raise DatasetError(f"{where}: asker_id {asker_id!r} is not in {MEMBERS_FILE}")
        questions.append(
            DatasetQuestion(
                id=question_id,
                asker_id=asker_id,
                title=_text(record, "title", where),
                body=_text(record, "body", where, required=False),
                tags=_strings(record, "tags", where),
                language=_optional_text(record, "language", where),
            )
        )
    return tuple(questions)


def _qrels(path: Path, question_ids: set[str], member_ids: set[str]) -> dict[str, dict[str, int]]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object {{question_id: {{member_id: grade}}}}")
    qrels: dict[str, dict[str, int]] = {}
    for question_id, judgments in data.items():
        where = f"{path} (question {question_id})"
        if question_id not in question_ids:
            raise DatasetError(f"{where}: question is not in {QUESTIONS_FILE}")
        if not isinstance(judgments, dict):
            raise DatasetError(f"{where}: expected an object {{member_id: grade}}")
        grades: dict[str, int] = {}
        for member_id, grade in judgments.items():
            if member_id not in member_ids:
                raise DatasetError(f"{where}: member {member_id!r} is not in {MEMBERS_FILE}")
            if isinstance(grade, bool) or not isinstance(grade, int) or grade not in GRADES:
                raise DatasetError(f"{where}: grade of {member_id!r} must be one of {GRADES}")
            grades[member_id] = grade
        qrels[question_id] = grades
    return qrels


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate an evaluation set directory; raises DatasetError naming the problem."""
    directory = Path(path)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: not a directory")
    members = _members(directory / MEMBERS_FILE)
    member_ids = {member.id for member in members}
    questions = _questions(directory / QUESTIONS_FILE, member_ids)
    qrels = _qrels(directory / QRELS_FILE, {question.id for question in questions}, member_ids)
    return Dataset(members=members, questions=questions, qrels=qrels)
