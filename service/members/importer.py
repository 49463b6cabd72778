"""Bulk import of members from JSON or CSV, batched so embedding runs at full speed.

The file format is that of ``shared/data/dev/members.json``: a JSON list of objects with
``id, name, municipality, state, municipality_type, role, expertise, tags, languages`` and
optionally ``email``. CSV has the same columns, with tags and languages separated by ``;``.
Importing the same file again updates the members it created (matched by ``id``). Imported
members get no usable token: the coordinator issues one with ``POST /v1/members/{id}/token``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
from pydantic import ConfigDict, EmailStr, Field, ValidationError

from models.common import ShortText, Text
from models.members import (
    DEFAULT_MAX_OPEN_REQUESTS,
    Expertise,
    LanguageList,
    MaxOpenRequests,
    MunicipalityKind,
    Role,
    TagList,
)
from service.db import Connection
from service.embedding import Embedder
from service.identity.tokens import hash_secret
from service.matching.passages import embed_passages
from service.members import bulk, repository
from service.members.service import tag_pairs
from service.text import fold

DEFAULT_BATCH = 64


class ImportedMember(Text):
    """One record of an import file; unknown columns are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: ShortText | None = None
    name: ShortText
    email: EmailStr | None = Field(default=None, max_length=254)
    municipality: ShortText
    state: ShortText
    municipality_type: MunicipalityKind | None = None
    role: Role = ""
    expertise: Expertise
    tags: TagList = Field(default_factory=list)
    languages: LanguageList = Field(default_factory=lambda: ["de"])
    accepting_requests: bool = True
    max_open_requests: MaxOpenRequests = DEFAULT_MAX_OPEN_REQUESTS


class ImportFileError(ValueError):
    """The file cannot be imported; the message lists every problem."""


@dataclass
class ImportReport:
    created_ids: list[UUID] = field(default_factory=list)
    updated: int = 0
    passages: int = 0
    errors: list[str] = field(default_factory=list)
    # Seconds spent building the vector indexes at the end of a bulk load (0 otherwise).
    index_build_s: float = 0.0

    @property
    def created(self) -> int:
        return len(self.created_ids)


def _split_list(value: str) -> list[str]:
    separator = ";" if ";" in value else ","
    return [part.strip() for part in value.split(separator) if part.strip()]


def read_records(path: Path) -> list[dict[str, Any]]:
    """The raw records of a JSON list or a CSV file with a header row."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        for row in rows:
            for key in ("tags", "languages"):
                if isinstance(row.get(key), str):
                    row[key] = _split_list(row[key])
            for key in [key for key, value in row.items() if value == ""]:
                row.pop(key)
        return [dict(row) for row in rows]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("members"), list):
        data = data["members"]
    if not isinstance(data, list):
        raise ImportFileError(f"{path}: expected a JSON list of members")
    return [record if isinstance(record, dict) else {"_invalid": record} for record in data]


def validate_records(records: Sequence[dict[str, Any]]) -> list[ImportedMember]:
    """Every record checked before anything is written; all problems reported at once."""
    members: list[ImportedMember] = []
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_emails: set[str] = set()
    for index, record in enumerate(records, 1):
        try:
            member = ImportedMember.model_validate(record)
        except ValidationError as exc:
            fields = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'record'}: {error['msg']}"
                for error in exc.errors()
            )
            problems.append(f"record {index}: {fields}")
            continue
        if member.id is not None:
            if member.id in seen_ids:
                problems.append(f"record {index}: id {member.id!r} appears twice")
            seen_ids.add(member.id)
        if member.email is not None:
            if member.email.lower() in seen_emails:
                problems.append(f"record {index}: e-mail {member.email} appears twice")
            seen_emails.add(member.email.lower())
        members.append(member)
    if problems:
        raise ImportFileError("\n".join(problems))
    return members


async def _write_batch(
    conn: Connection,
    members: Sequence[ImportedMember],
    passage_lists: Sequence[list[str]],
    vectors: Any,
    model: str,
) -> list[UUID]:
    """Insert or update a batch of members in a few statements; returns the new members' ids."""
    places = await repository.upsert_municipalities(
        conn, [(m.municipality, m.state, m.municipality_type) for m in members]
    )
    existing = await repository.member_ids_for_external_ids(
        conn, [m.id for m in members if m.id is not None]
    )
    member_ids: list[UUID] = []
    new: list[repository.NewMember] = []
    for member in members:
        row = repository.MemberRow(
            municipality_id=places[(fold(member.municipality), fold(member.state))],
            name=member.name,
            email=member.email,
            role=member.role,
            expertise=member.expertise,
            languages=member.languages,
            accepting_requests=member.accepting_requests,
            max_open_requests=member.max_open_requests,
        )
        member_id = existing.get(member.id) if member.id is not None else None
        if member_id is None:
            member_id = uuid4()
            new.append(
                repository.NewMember(
                    id=member_id,
                    row=row,
                    # A token nobody knows: the coordinator issues a real one through the API.
                    token_hash=hash_secret(secrets.token_urlsafe(32)),
                    external_id=member.id,
                )
            )
        else:
            await repository.update_member(conn, member_id, repository.MemberChanges.whole(row))
        member_ids.append(member_id)
    if new:
        await repository.insert_members(conn, new)
    tags = [tag_pairs(member.tags) for member in members]
    await repository.replace_tags_of_many(conn, list(zip(member_ids, tags, strict=True)))
    await repository.replace_passages_of_many(
        conn, _passages_by_member(member_ids, passage_lists, vectors), model=model
    )
    return [member.id for member in new]


def _passages_by_member(
    member_ids: Sequence[UUID], passage_lists: Sequence[list[str]], vectors: Any
) -> list[tuple[UUID, list[str], Any]]:
    """(member id, texts, vectors) per member, slicing one batch's vectors."""
    result = []
    offset = 0
    for member_id, texts in zip(member_ids, passage_lists, strict=True):
        result.append((member_id, texts, vectors[offset : offset + len(texts)]))
        offset += len(texts)
    return result


T = TypeVar("T")


async def _embedded_batches(
    embedder: Embedder,
    items: Sequence[T],
    expertise_of: Callable[[T], str],
    batch_size: int,
) -> AsyncIterator[tuple[Sequence[T], list[list[str]], Any]]:
    """Batches with their passages and vectors. The next batch is split and embedded in a
    worker thread while the caller writes the current one, so the database writes hide behind
    the embedding, which is the real cost of an import."""

    def embed(batch: Sequence[T]) -> tuple[list[list[str]], Any]:
        return embed_passages(embedder, [expertise_of(item) for item in batch])

    batches = [items[start : start + batch_size] for start in range(0, len(items), batch_size)]
    upcoming = asyncio.ensure_future(asyncio.to_thread(embed, batches[0])) if batches else None
    try:
        for index, batch in enumerate(batches):
            assert upcoming is not None
            passage_lists, vectors = await upcoming
            upcoming = None
            if index + 1 < len(batches):
                upcoming = asyncio.ensure_future(asyncio.to_thread(embed, batches[index + 1]))
            yield batch, passage_lists, vectors
    finally:
        # A failed write stops the import: the batch being embedded is not wanted any more.
        if upcoming is not None:
            upcoming.cancel()


async def import_members(
    pool: asyncpg.Pool,
    embedder: Embedder,
    members: Sequence[ImportedMember],
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    bulk_minimum: int = bulk.BULK_MINIMUM_MEMBERS,
) -> ImportReport:
    """Write validated members in batches: one embedding call and one transaction a batch. A
    bulk load (at least as many members as the network has) builds the vector indexes at the
    end instead of row by row (``service/members/bulk.py``)."""
    report = ImportReport()
    async with bulk.bulk_load(pool, len(members), minimum=bulk_minimum) as load:
        async for batch, passage_lists, vectors in _embedded_batches(
            embedder, members, lambda member: member.expertise, batch_size
        ):
            async with pool.acquire() as conn, conn.transaction():
                created = await _write_batch(conn, batch, passage_lists, vectors, embedder.name)
            report.created_ids.extend(created)
            report.updated += len(batch) - len(created)
            report.passages += sum(len(texts) for texts in passage_lists)
            if progress is not None:
                progress(len(batch))
    report.index_build_s = load.index_build_s
    return report


async def reindex(
    pool: asyncpg.Pool,
    embedder: Embedder,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-split and re-embed every member's expertise with ``embedder``; returns passages."""
    async with pool.acquire() as conn:
        members = await repository.all_member_texts(conn)
    total = 0
    # Every passage is written again: a bulk load by definition.
    async with bulk.bulk_load(pool, len(members), minimum=0):
        async for batch, passage_lists, vectors in _embedded_batches(
            embedder, members, lambda member: member[1], batch_size
        ):
            member_ids = [member_id for member_id, _ in batch]
            async with pool.acquire() as conn, conn.transaction():
                await repository.replace_passages_of_many(
                    conn,
                    _passages_by_member(member_ids, passage_lists, vectors),
                    model=embedder.name,
                )
            total += sum(len(texts) for texts in passage_lists)
            if progress is not None:
                progress(len(batch))
    return total
