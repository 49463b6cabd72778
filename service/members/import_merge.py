"""What an import does to one row: the three-way merge of a member's fields (the file, the
member as they are, and what the last import wrote), and the summary of a whole import. Plain
functions over values, no database (``service/members/importer.py`` reads and writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from models.members import Member
from service.matching.tags import clean_tag
from service.members.import_file import ImportedMember
from service.text import fold

# The fields an import writes, in the order the summary names them.
FIELDS = (
    "name",
    "email",
    "municipality",
    "role",
    "expertise",
    "tags",
    "languages",
    "accepting_requests",
    "max_open_requests",
)
# A row's columns that give each field (the municipality: name, state and kind together).
_COLUMNS_OF = {"municipality": ("municipality", "state", "municipality_type")}


class Outcome(StrEnum):
    new = "new"
    updated = "updated"
    unchanged = "unchanged"
    erased = "erased"  # the row belongs to an erased account: skipped


@dataclass
class RowReport:
    """What the import does (or did) with one row."""

    row: int
    name: str
    outcome: Outcome
    member_id: UUID | None = None
    changed: list[str] = field(default_factory=list)
    # Fields the member (or the coordinator) changed since the last import, where the file
    # says something else: their version stays.
    conflicts: list[str] = field(default_factory=list)
    # Fields the file gives that cannot be written (an address another member has).
    refused: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    passages: int = 0
    # Seconds spent building the vector indexes at the end of a bulk load (0 otherwise).
    index_build_s: float = 0.0

    def _count(self, outcome: Outcome) -> int:
        return sum(row.outcome == outcome for row in self.rows)

    @property
    def created_ids(self) -> list[UUID]:
        return [
            row.member_id
            for row in self.rows
            if row.outcome == Outcome.new and row.member_id is not None
        ]

    @property
    def created(self) -> int:
        return self._count(Outcome.new)

    @property
    def updated(self) -> int:
        return self._count(Outcome.updated)

    @property
    def unchanged(self) -> int:
        return self._count(Outcome.unchanged)

    @property
    def erased(self) -> list[RowReport]:
        return [row for row in self.rows if row.outcome == Outcome.erased]

    @property
    def conflicts(self) -> list[RowReport]:
        return [row for row in self.rows if row.conflicts or row.refused]

    def summary(self) -> str:
        """The counts in one line (English, for the command line)."""
        parts = [f"{self.created} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.erased:
            parts.append(f"{len(self.erased)} skipped (erased accounts)")
        return ", ".join(parts)


def file_values(member: ImportedMember) -> dict[str, Any]:
    """The fields the row gives, as JSON values (a column left empty gives nothing)."""
    given = member.model_fields_set
    values: dict[str, Any] = {
        "name": member.name,
        "email": member.email,
        "municipality": [member.municipality, member.state, member.municipality_type],
        "role": member.role,
        "expertise": member.expertise,
        "tags": [clean_tag(tag) for tag in member.tags],
        "languages": list(member.languages),
        "accepting_requests": member.accepting_requests,
        "max_open_requests": member.max_open_requests,
    }
    return {
        name: value
        for name, value in values.items()
        if any(column in given for column in _COLUMNS_OF.get(name, (name,)))
    }


def member_values(member: Member) -> dict[str, Any]:
    """A member's importable fields in the shape of ``file_values``."""
    place = member.municipality
    return {
        "name": member.name,
        "email": member.email,
        "municipality": [place.name, place.state, place.kind],
        "role": member.role,
        "expertise": member.expertise,
        "tags": list(member.tags),
        "languages": list(member.languages),
        "accepting_requests": member.accepting_requests,
        "max_open_requests": member.max_open_requests,
    }


def same(name: str, given: Any, held: Any) -> bool:
    """Whether a field's two values are the same (an address in any case, a place by its
    folded name and state, its kind where the file gives one)."""
    if given is None or held is None:
        return given is held
    if name == "email":
        return str(given).casefold() == str(held).casefold()
    if name == "municipality":
        return (
            fold(given[0]) == fold(held[0])
            and fold(given[1]) == fold(held[1])
            and (given[2] is None or given[2] == held[2])
        )
    equal: bool = given == held
    return equal


@dataclass(frozen=True, slots=True)
class Merge:
    """What a row does to a member: fields to write, conflicts, and the record of this import."""

    write: dict[str, Any]
    conflicts: list[str]
    baseline: dict[str, Any]


def merge(given: dict[str, Any], held: dict[str, Any], baseline: dict[str, Any] | None) -> Merge:
    """The three-way merge of a field: the file's value is written where the file changed it
    since the last import and the member did not; where both changed it, the member's stays."""
    write: dict[str, Any] = {}
    conflicts: list[str] = []
    for name in FIELDS:
        if name not in given or same(name, given[name], held[name]):
            continue
        last = (baseline or {}).get(name, _NOTHING)
        if last is not _NOTHING and same(name, given[name], last):
            continue  # the file still says what it said; the member changed it since
        if last is not _NOTHING and same(name, held[name], last):
            write[name] = given[name]
        else:
            conflicts.append(name)
    return Merge(write, conflicts, {**(baseline or {}), **given})


_NOTHING = object()
