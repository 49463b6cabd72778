"""Reading an import file as people have it: a JSON list in the schema of
``shared/data/dev/members.json``, or a spreadsheet saved as CSV, with ``,`` or ``;`` between
the cells (German Excel writes ``;``), UTF-8 with or without a byte-order mark, and English or
German column names. Tags and languages are separated by ``;`` or ``,`` within their cell.

Every row is checked before anything is written, and every problem is reported with the row
(as the spreadsheet numbers it: the header is row 1) and the column as the file names it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, EmailStr, Field, ValidationError, field_validator

from models.common import ShortText, Text
from models.members import (
    DEFAULT_MAX_OPEN_REQUESTS,
    Expertise,
    LanguageList,
    MaxOpenRequests,
    MunicipalityKind,
    Role,
    State,
    TagList,
)
from service.text import fold


class ImportedMember(Text):
    """One row of an import file; unknown columns are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: ShortText | None = None
    name: ShortText
    email: EmailStr | None = Field(default=None, max_length=254)
    municipality: ShortText
    state: State
    municipality_type: MunicipalityKind | None = None
    role: Role = ""
    expertise: Expertise
    tags: TagList = Field(default_factory=list)
    languages: LanguageList = Field(default_factory=lambda: ["de"])
    accepting_requests: bool = True
    max_open_requests: MaxOpenRequests = DEFAULT_MAX_OPEN_REQUESTS

    @field_validator("accepting_requests", mode="before")
    @classmethod
    def _german_yes_and_no(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().casefold() in _YES_NO:
            return _YES_NO[value.strip().casefold()]
        return value


_YES_NO = {"ja": True, "j": True, "x": True, "nein": False, "n": False}

# The columns an import reads, each with the names a spreadsheet may give it (compared folded,
# without spaces: "E-Mail-Adresse", "e-mail adresse" and "EMAIL ADRESSE" are one name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "Kennung", "Mitgliedsnummer", "Nummer"),
    "name": ("name", "Name", "Vor- und Nachname"),
    "email": ("email", "E-Mail", "E-Mail-Adresse", "Mail"),
    "municipality": ("municipality", "Kommune", "Gemeinde", "Stadt", "Ort"),
    "state": ("state", "Bundesland", "Land", "Kanton"),
    "municipality_type": (
        "municipality_type",
        "Gemeindetyp",
        "Art der Kommune",
        "Kommunentyp",
        "Typ",
    ),
    "role": ("role", "Rolle", "Funktion"),
    "expertise": ("expertise", "Expertise", "Erfahrung", "Erfahrung und Expertise"),
    "tags": ("tags", "Schlagworte", "Schlagwörter", "Stichworte"),
    "languages": ("languages", "Sprachen"),
    "accepting_requests": ("accepting_requests", "Nimmt Anfragen an", "Anfragen annehmen"),
    "max_open_requests": (
        "max_open_requests",
        "Höchstens offene Anfragen",
        "Offene Anfragen höchstens",
    ),
}
REQUIRED = ("name", "municipality", "state", "expertise")
# The German column names, as the README and the import page list them.
GERMAN_COLUMNS = {column: names[1] for column, names in COLUMNS.items()}


def _column_key(name: str) -> str:
    return fold(name).replace(" ", "")


_COLUMN_OF = {_column_key(name): column for column, names in COLUMNS.items() for name in names}


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """What is wrong with one cell (or one row, or the file): where, and pydantic's error."""

    row: int | None  # as the spreadsheet numbers it (the header is row 1); a JSON record's
    column: str | None  # as the file names it
    field: str | None  # the column it stands for
    kind: str  # pydantic's error type, or one of this module's: see PROBLEMS
    message: str  # in English, for the command line
    value: Any = None
    # pydantic's ctx, or the row or column the problem repeats
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        where = " ".join(
            part
            for part in (
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


class ImportFileError(ValueError):
    """The file cannot be imported; ``problems`` lists every one, the message too."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        super().__init__("\n".join(problem.describe() for problem in problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ImportRow:
    number: int  # as the spreadsheet numbers it (a JSON record: its place in the list)
    member: ImportedMember


@dataclass
class ImportFile:
    rows: list[ImportRow]
    # Columns of the file that no field reads (shown, so nobody wonders where they went).
    ignored_columns: list[str] = field(default_factory=list)


def _problem(kind: str, message: str, **where: Any) -> ImportProblem:
    return ImportProblem(
        row=where.get("row"),
        column=where.get("column"),
        field=where.get("field"),
        kind=kind,
        message=message,
        value=where.get("value"),
        context=dict(where.get("context") or {}),
    )


def _split_list(value: str) -> list[str]:
    separator = ";" if ";" in value else ","
    return [part.strip() for part in value.split(separator) if part.strip()]


def _delimiter(text: str) -> str:
    """``;``, ``,`` or a tab: whichever separates most cells of the header row (outside
    quotes)."""
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for char in text.split("\n", 1)[0]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str], list[str]]:
    """The rows of a CSV text by row number, the file's name for each field's column, and
    the columns no field reads."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    header = next(reader, [])
    columns: dict[int, str] = {}
    named: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[ImportProblem] = []
    for index, name in enumerate(header):
        column = _COLUMN_OF.get(_column_key(name))
        if column is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if column in named:
            problems.append(
                _problem(
                    "duplicate_column",
                    f"the columns {named[column]!r} and {name!r} both give {column}; "
                    "keep one of them",
                    row=1,
                    column=name,
                    field=column,
                    context={"other_column": named[column]},
                )
            )
            continue
        columns[index] = column
        named[column] = name.strip()
    missing = [column for column in REQUIRED if column not in named]
    if missing:
        problems.append(
            _problem(
                "missing_columns",
                "the header row lacks the columns "
                + ", ".join(f"{column} ({GERMAN_COLUMNS[column]})" for column in missing)
                + "; the first row of the file names the columns",
                row=1,
                value=missing,
            )
        )
    if problems:
        raise ImportFileError(problems)
    rows = []
    for number, cells in enumerate(reader, 2):
        if not any(cell.strip() for cell in cells):
            continue  # an empty line, as spreadsheets leave at the end
        record: dict[str, Any] = {}
        for index, cell in enumerate(cells):
            column = columns.get(index)
            if column is None or not cell.strip():
                continue
            record[column] = _split_list(cell) if column in ("tags", "languages") else cell
        rows.append((number, record))
    return rows, named, ignored


def _json_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            [_problem("json_invalid", f"not valid JSON ({exc.msg}, line {exc.lineno})")]
        ) from None
    if isinstance(data, dict) and isinstance(data.get("members"), list):
        data = data["members"]
    if not isinstance(data, list):
        raise ImportFileError([_problem("json_invalid", "expected a JSON list of members")])
    return [
        (number, record if isinstance(record, dict) else {"_invalid": record})
        for number, record in enumerate(data, 1)
    ]


def decode(content: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            [
                _problem(
                    "not_utf8",
                    "the file is not UTF-8 text; in Excel save it as "
                    "'CSV UTF-8 (Comma delimited)' (German: 'CSV UTF-8 (durch Trennzeichen "
                    "getrennt)')",
                )
            ]
        ) from None


def is_csv(file_name: str, text: str) -> bool:
    if file_name.lower().endswith(".csv"):
        return True
    return not file_name.lower().endswith(".json") and not text.lstrip().startswith(("[", "{"))


def read(file_name: str, content: bytes) -> ImportFile:
    """Every row of the file, checked; ImportFileError with every problem otherwise."""
    text = decode(content)
    named: dict[str, str] = {}
    ignored: list[str] = []
    if is_csv(file_name, text):
        records, named, ignored = _csv_rows(text)
    else:
        records = _json_rows(text)
    return ImportFile(rows=validate(records, named), ignored_columns=ignored)


def validate(
    records: Sequence[tuple[int, dict[str, Any]]], named: dict[str, str] | None = None
) -> list[ImportRow]:
    """Every record checked before anything is written; all problems reported at once."""
    named = named or {}
    rows: list[ImportRow] = []
    problems: list[ImportProblem] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for number, record in records:
        try:
            member = ImportedMember.model_validate(record)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error.get("loc") else None
                problems.append(
                    _problem(
                        str(error.get("type", "invalid")),
                        str(error.get("msg", "invalid")).removeprefix("Value error, "),
                        row=number,
                        column=named.get(column or "", column),
                        field=column,
                        value=error.get("input"),
                        context=error.get("ctx"),
                    )
                )
            continue
        for kind, value, seen in (
            ("id", member.id, seen_ids),
            ("email", member.email.lower() if member.email else None, seen_emails),
        ):
            if value is None:
                continue
            if value in seen:
                problems.append(
                    _problem(
                        "duplicate",
                        f"the same {kind} as row {seen[value]}; each member stands in one row",
                        row=number,
                        column=named.get(kind, kind),
                        field=kind,
                        value=value,
                        context={"other_row": seen[value]},
                    )
                )
            seen.setdefault(value, number)
        rows.append(ImportRow(number, member))
    if problems:
        raise ImportFileError(problems)
    return rows
