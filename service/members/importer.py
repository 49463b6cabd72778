"""Importing members from a file (``service/members/import_file.py`` reads it), in batches so
that embedding runs at full speed, without ever undoing what members did themselves.

A row is matched to a member by its ``id`` (the id the file gives, kept as the member's
``external_id``) or, where the row has no id or no member has it, by its e-mail address.

* A row that matches nobody makes a new member (with no usable token: they sign in by link),
  unless its address or id belonged to a member who erased their account
  (``service/members/erasure.py``): such a row is skipped, and the summary says so.
* A row that matches a member changes only what the file changed since the last import, field
  by field: the values each import wrote are kept (``member_import``). Where the member (or
  the coordinator) changed a field since, their version stays and the summary lists the
  conflict; a member who came in another way has no such record, so every field the file
  gives differently is such a conflict.

``plan`` says what an import would do without writing anything (the preview of the
Koordination's import page); ``import_members`` does it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg

from models.members import Member
from service.db import Connection
from service.embedding import Embedder
from service.identity.tokens import hash_secret
from service.matching.passages import embed_passages
from service.members import bulk, erasure, expertise_repository, import_repository, repository
from service.members.import_file import ImportedMember, ImportRow, validate
from service.members.import_merge import (
    FIELDS,
    ImportReport,
    Outcome,
    RowReport,
    file_values,
    member_values,
    merge,
)
from service.members.service import tag_pairs
from service.text import fold

DEFAULT_BATCH = 64


def validate_records(records: Sequence[dict[str, Any]]) -> list[ImportRow]:
    """Records of a JSON list, numbered from 1, checked (``import_file.validate``)."""
    return validate(list(enumerate(records, 1)))


@dataclass
class _Match:
    """Who a row is, as planned before writing."""

    row: ImportRow
    member_id: UUID | None
    erased: bool = False


async def _matches(conn: Connection, rows: Sequence[ImportRow]) -> list[_Match]:
    by_id = await import_repository.member_ids_for_external_ids(
        conn, [row.member.id for row in rows if row.member.id is not None]
    )
    by_email = await import_repository.member_ids_for_emails(
        conn, [row.member.email for row in rows if row.member.email is not None]
    )
    matches = []
    for row in rows:
        member = row.member
        found = by_id.get(member.id) if member.id is not None else None
        if found is None and member.email is not None:
            found = by_email.get(member.email.lower())
        matches.append(_Match(row, found))
    unmatched = [match.row.member for match in matches if match.member_id is None]
    emails, import_ids = await erasure.erased_among(
        conn,
        emails=[member.email for member in unmatched if member.email],
        import_ids=[member.id for member in unmatched if member.id],
    )
    for match in matches:
        member = match.row.member
        if match.member_id is None:
            match.erased = (member.email or "") in emails or (member.id or "") in import_ids
    return matches


async def _held(
    conn: Connection, member_ids: Sequence[UUID], *, lock: bool = False
) -> tuple[dict[UUID, Member], dict[UUID, dict[str, Any]]]:
    if not member_ids:  # a first import: nobody to compare with
        return {}, {}
    members = await repository.members_by_ids(conn, member_ids, for_update=lock)
    baselines = await import_repository.import_baselines(conn, member_ids)
    return {UUID(member.id): member for member in members}, baselines


async def plan(conn: Connection, rows: Sequence[ImportRow]) -> ImportReport:
    """What importing ``rows`` would do, without writing anything."""
    _, report = await _planned(conn, rows)
    return report


async def _planned(
    conn: Connection, rows: Sequence[ImportRow]
) -> tuple[list[_Match], ImportReport]:
    report = ImportReport()
    matches = await _matches(conn, rows)
    held, baselines = await _held(
        conn, [match.member_id for match in matches if match.member_id is not None]
    )
    taken = await import_repository.member_ids_for_emails(
        conn, [row.member.email for row in rows if row.member.email is not None]
    )
    for match in matches:
        member = match.row.member
        if match.erased:
            report.rows.append(RowReport(match.row.number, member.name, Outcome.erased))
            continue
        if match.member_id is None:
            report.rows.append(RowReport(match.row.number, member.name, Outcome.new))
            continue
        current = held[match.member_id]
        merged = merge(file_values(member), member_values(current), baselines.get(match.member_id))
        refused = _refused_email(merged.write, match.member_id, taken)
        changed = [name for name in FIELDS if name in merged.write and name not in refused]
        report.rows.append(
            RowReport(
                match.row.number,
                current.name,
                Outcome.updated if changed else Outcome.unchanged,
                match.member_id,
                changed,
                merged.conflicts,
                refused,
            )
        )
    return matches, report


def _refused_email(write: dict[str, Any], member_id: UUID, taken: dict[str, UUID]) -> list[str]:
    """["email"] when the address the file gives belongs to another member."""
    email = write.get("email")
    if email is None:
        return []
    holder = taken.get(str(email).lower())
    return ["email"] if holder is not None and holder != member_id else []


T = TypeVar("T")


async def _embedded_batches(
    embedder: Embedder,
    items: Sequence[T],
    expertise_of: Callable[[T], str | None],
    batch_size: int,
) -> AsyncIterator[tuple[Sequence[T], list[list[str] | None], Any]]:
    """Batches with the passages and vectors of the items that have an expertise to embed
    (None for the others). The next batch is split and embedded in a worker thread while the
    caller writes the current one, so the database writes hide behind the embedding, which is
    the real cost of an import."""

    def embed(batch: Sequence[T]) -> tuple[list[list[str] | None], Any]:
        texts = [expertise_of(item) for item in batch]
        wanted = [text for text in texts if text is not None]
        passage_lists, vectors = embed_passages(embedder, wanted) if wanted else ([], [])
        lists = iter(passage_lists)
        return [None if text is None else next(lists) for text in texts], vectors

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


def _slices(
    passage_lists: Sequence[list[str] | None], vectors: Any
) -> list[tuple[list[str], Any] | None]:
    """Each item's passages and their vectors, cut from one batch's vectors (None for an item
    that was not embedded)."""
    sliced: list[tuple[list[str], Any] | None] = []
    offset = 0
    for texts in passage_lists:
        if texts is None:
            sliced.append(None)
            continue
        sliced.append((texts, vectors[offset : offset + len(texts)]))
        offset += len(texts)
    return sliced


def _row_of(member: ImportedMember, municipality_id: UUID) -> repository.MemberRow:
    return repository.MemberRow(
        municipality_id=municipality_id,
        name=member.name,
        email=member.email,
        role=member.role,
        expertise=member.expertise,
        languages=member.languages,
        accepting_requests=member.accepting_requests,
        max_open_requests=member.max_open_requests,
    )


def _changes(write: dict[str, Any], municipality_id: UUID) -> repository.MemberChanges:
    return repository.MemberChanges(
        name=write.get("name"),
        email=write.get("email"),
        role=write.get("role"),
        expertise=write.get("expertise"),
        languages=write.get("languages"),
        accepting_requests=write.get("accepting_requests"),
        max_open_requests=write.get("max_open_requests"),
        municipality_id=municipality_id if "municipality" in write else None,
    )


@dataclass
class _Batch:
    """What one batch writes, gathered so that it goes out in a few statements."""

    new: list[repository.NewMember] = field(default_factory=list)
    tags: list[tuple[UUID, Sequence[tuple[str, str]]]] = field(default_factory=list)
    passages: list[tuple[UUID, Sequence[str], Any]] = field(default_factory=list)
    records: list[tuple[UUID, str]] = field(default_factory=list)
    reports: list[RowReport] = field(default_factory=list)


async def _write_batch(
    conn: Connection,
    embedder: Embedder,
    matches: Sequence[_Match],
    passage_lists: Sequence[list[str] | None],
    vectors: Any,
) -> _Batch:
    """Insert the batch's new members and change the others as ``merge`` says (under a lock
    of their rows, so a member's edit in the meantime is seen), in a few statements."""
    live = [match for match in matches if not match.erased]
    places = await repository.upsert_municipalities(
        conn, [(m.row.member.municipality, m.row.member.state, m.row.member.municipality_type)
               for m in live]
    )  # fmt: skip
    held, baselines = await _held(
        conn, [match.member_id for match in live if match.member_id is not None], lock=True
    )
    taken = await import_repository.member_ids_for_emails(
        conn, [m.row.member.email for m in live if m.row.member.email is not None]
    )
    batch = _Batch()
    for match, embedded in zip(matches, _slices(passage_lists, vectors), strict=True):
        member = match.row.member
        if match.erased:
            batch.reports.append(RowReport(match.row.number, member.name, Outcome.erased))
            continue
        place = places[(fold(member.municipality), fold(member.state))]
        given = file_values(member)
        if match.member_id is None:
            member_id = uuid4()
            batch.new.append(
                repository.NewMember(
                    id=member_id,
                    row=_row_of(member, place),
                    # A token nobody knows: the member signs in by link, or gets one issued.
                    token_hash=hash_secret(secrets.token_urlsafe(32)),
                    external_id=member.id,
                )
            )
            batch.tags.append((member_id, tag_pairs(member.tags)))
            assert embedded is not None  # every new member's expertise is embedded
            batch.passages.append((member_id, *embedded))
            batch.records.append((member_id, json.dumps(given)))
            batch.reports.append(RowReport(match.row.number, member.name, Outcome.new, member_id))
            continue
        member_id = match.member_id
        current = held[member_id]
        merged = merge(given, member_values(current), baselines.get(member_id))
        refused = _refused_email(merged.write, member_id, taken)
        write = {name: value for name, value in merged.write.items() if name not in refused}
        if "expertise" in write:
            if embedded is None:  # the plan had the member's text; they changed it back since
                texts, vectors_now = await asyncio.to_thread(
                    embed_passages, embedder, [member.expertise]
                )
                embedded = (texts[0], vectors_now)
            batch.passages.append((member_id, *embedded))
        if "tags" in write:
            batch.tags.append((member_id, tag_pairs(write["tags"])))
        if write:
            await repository.update_member(conn, member_id, _changes(write, place))
        if member.id is not None:
            await import_repository.adopt_external_id(conn, member_id, member.id)
        batch.records.append((member_id, json.dumps(merged.baseline)))
        changed = [name for name in FIELDS if name in write]
        batch.reports.append(
            RowReport(
                match.row.number,
                current.name,
                Outcome.updated if changed else Outcome.unchanged,
                member_id,
                changed,
                merged.conflicts,
                refused,
            )
        )
    if batch.new:
        await repository.insert_members(conn, batch.new)
    if batch.tags:
        await expertise_repository.replace_tags_of_many(conn, batch.tags)
    if batch.passages:
        await expertise_repository.replace_passages_of_many(
            conn, batch.passages, model=embedder.name
        )
    await import_repository.record_imports(conn, batch.records)
    return batch


async def import_members(
    pool: asyncpg.Pool,
    embedder: Embedder,
    rows: Sequence[ImportRow],
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    bulk_minimum: int = bulk.BULK_MINIMUM_MEMBERS,
) -> ImportReport:
    """Import the rows in batches: one embedding call (of the expertise to write) and one
    transaction a batch. A bulk load (at least as many new profiles as the network has)
    builds the vector indexes at the end instead of row by row
    (``service/members/bulk.py``)."""
    async with pool.acquire() as conn:
        matches, planned = await _planned(conn, rows)
    embed = {
        report.row
        for report in planned.rows
        if report.outcome == Outcome.new or "expertise" in report.changed
    }
    report = ImportReport()
    async with bulk.bulk_load(pool, len(embed), minimum=bulk_minimum) as load:
        async for batch, passage_lists, vectors in _embedded_batches(
            embedder,
            matches,
            lambda match: match.row.member.expertise if match.row.number in embed else None,
            batch_size,
        ):
            async with pool.acquire() as conn, conn.transaction():
                written = await _write_batch(conn, embedder, batch, passage_lists, vectors)
            report.rows.extend(written.reports)
            report.passages += sum(len(texts) for _, texts, _ in written.passages)
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
        members = await expertise_repository.all_member_texts(conn)
    total = 0
    # Every passage is written again: a bulk load by definition.
    async with bulk.bulk_load(pool, len(members), minimum=0):
        async for batch, passage_lists, vectors in _embedded_batches(
            embedder, members, lambda member: member[1], batch_size
        ):
            embedded = [
                (member_id, *sliced)
                for (member_id, _), sliced in zip(
                    batch, _slices(passage_lists, vectors), strict=True
                )
                if sliced is not None
            ]
            async with pool.acquire() as conn, conn.transaction():
                await expertise_repository.replace_passages_of_many(
                    conn, embedded, model=embedder.name
                )
            total += sum(len(texts) for _, texts, _ in embedded)
            if progress is not None:
                progress(len(batch))
    return total
