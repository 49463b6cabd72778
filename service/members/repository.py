"""All SQL about municipalities, members, their tags and their passages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import numpy as np

from models.members import Member, Municipality, TagCount
from service.db import Connection
from service.embedding import Vector
from service.matching.passages import searched_flags, sentence_flags
from service.text import fold

_MEMBER_SELECT = """
    SELECT m.id, m.name, m.email, m.role, m.expertise, m.languages, m.accepting_requests,
           m.max_open_requests, m.created_at, m.updated_at, m.welcomed_at, m.signed_in_at,
           (SELECT c.new_email FROM member_email_change c
            WHERE c.member_id = m.id AND c.expires_at > now()) AS email_pending,
           mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
           coalesce(
               (SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                WHERE t.member_id = m.id),
               '{}'
           ) AS tags
    FROM member m
    JOIN municipality mu ON mu.id = m.municipality_id
"""


def municipality_from_record(record: asyncpg.Record, prefix: str = "municipality_") -> Municipality:
    return Municipality(
        id=str(record[f"{prefix}id"]),
        name=record[f"{prefix}name"],
        state=record["state"],
        kind=record["kind"],
    )


def member_from_record(record: asyncpg.Record) -> Member:
    return Member(
        id=str(record["id"]),
        name=record["name"],
        email=record["email"],
        municipality=municipality_from_record(record),
        role=record["role"],
        expertise=record["expertise"],
        tags=list(record["tags"]),
        languages=list(record["languages"]),
        accepting_requests=record["accepting_requests"],
        max_open_requests=record["max_open_requests"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        welcomed_at=record["welcomed_at"],
        signed_in_at=record["signed_in_at"],
        email_pending=record["email_pending"],
    )


async def upsert_municipality(conn: Connection, *, name: str, state: str, kind: str | None) -> UUID:
    """The municipality with this (folded) name and state, created if new. A kind given for a
    municipality that had none is recorded."""
    municipality_id: UUID = await conn.fetchval(
        """
        INSERT INTO municipality (name, state, kind, name_key, state_key)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT ON CONSTRAINT municipality_name_state_key
        DO UPDATE SET kind = coalesce(municipality.kind, EXCLUDED.kind)
        RETURNING id
        """,
        name,
        state,
        kind,
        fold(name),
        fold(state),
    )
    return municipality_id


async def upsert_municipalities(
    conn: Connection, places: Sequence[tuple[str, str, str | None]]
) -> dict[tuple[str, str], UUID]:
    """``upsert_municipality`` for several (name, state, kind) in one statement; returns the ids
    by folded (name, state). The first spelling of a place wins, and its first known kind."""
    unique: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for name, state, kind in places:
        key = (fold(name), fold(state))
        first = unique.setdefault(key, (name, state, kind))
        if first[2] is None and kind is not None:
            unique[key] = (first[0], first[1], kind)
    if not unique:
        return {}
    records = await conn.fetch(
        """
        INSERT INTO municipality (name, state, kind, name_key, state_key)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        ON CONFLICT ON CONSTRAINT municipality_name_state_key
        DO UPDATE SET kind = coalesce(municipality.kind, EXCLUDED.kind)
        RETURNING id, name_key, state_key
        """,
        [name for name, _, _ in unique.values()],
        [state for _, state, _ in unique.values()],
        [kind for _, _, kind in unique.values()],
        [name_key for name_key, _ in unique],
        [state_key for _, state_key in unique],
    )
    return {(record["name_key"], record["state_key"]): record["id"] for record in records}


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member's own columns, as a new member or an import writes them whole."""

    municipality_id: UUID
    name: str
    email: str | None
    role: str
    expertise: str
    languages: Sequence[str]
    accepting_requests: bool
    max_open_requests: int


@dataclass(frozen=True, slots=True)
class NewMember:
    """A member to insert (the id is chosen by the caller, so batches need no RETURNING)."""

    id: UUID
    row: MemberRow
    token_hash: bytes
    external_id: str | None = None


async def insert_members(conn: Connection, members: Sequence[NewMember]) -> None:
    await conn.executemany(
        """
        INSERT INTO member (id, municipality_id, name, email, role, expertise, languages,
                            accepting_requests, max_open_requests, token_hash, external_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        [
            (
                member.id,
                member.row.municipality_id,
                member.row.name,
                member.row.email,
                member.row.role,
                member.row.expertise,
                list(member.row.languages),
                member.row.accepting_requests,
                member.row.max_open_requests,
                member.token_hash,
                member.external_id,
            )
            for member in members
        ],
    )


async def member_id_for_external_id(conn: Connection, external_id: str) -> UUID | None:
    return (await member_ids_for_external_ids(conn, [external_id])).get(external_id)


async def member_ids_for_external_ids(
    conn: Connection, external_ids: Sequence[str]
) -> dict[str, UUID]:
    records = await conn.fetch(
        "SELECT external_id, id FROM member WHERE external_id = ANY($1::text[])",
        list(external_ids),
    )
    return {record["external_id"]: record["id"] for record in records}


async def member_ids_for_emails(conn: Connection, emails: Sequence[str]) -> dict[str, UUID]:
    """The members holding these addresses, by the address in lower case."""
    records = await conn.fetch(
        "SELECT lower(email) AS email, id FROM member WHERE lower(email) = ANY($1::text[])",
        [email.lower() for email in emails],
    )
    return {record["email"]: record["id"] for record in records}


async def adopt_external_id(conn: Connection, member_id: UUID, external_id: str) -> None:
    """A member found by their address takes the id an import file gives them, so that the
    next import finds them by it (unless they have one already)."""
    await conn.execute(
        "UPDATE member SET external_id = $2 WHERE id = $1 AND external_id IS NULL",
        member_id,
        external_id,
    )


async def import_baselines(
    conn: Connection, member_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """The values the last import wrote, per member (``service/members/importer.py``)."""
    records = await conn.fetch(
        "SELECT member_id, fields FROM member_import WHERE member_id = ANY($1::uuid[])",
        list(member_ids),
    )
    return {record["member_id"]: json.loads(record["fields"]) for record in records}


async def record_imports(conn: Connection, records: Sequence[tuple[UUID, str]]) -> None:
    """Keep what an import wrote (member id, the fields as JSON text), for the next one."""
    await conn.executemany(
        """
        INSERT INTO member_import (member_id, fields) VALUES ($1, $2::jsonb)
        ON CONFLICT (member_id) DO UPDATE SET fields = EXCLUDED.fields, imported_at = now()
        """,
        records,
    )


async def import_record(conn: Connection, member_id: UUID) -> dict[str, Any] | None:
    """What the last import wrote for the member, and when (their export shows it)."""
    record = await conn.fetchrow(
        "SELECT fields, imported_at FROM member_import WHERE member_id = $1", member_id
    )
    if record is None:
        return None
    return {
        "fields": json.loads(record["fields"]),
        "imported_at": record["imported_at"].isoformat(),
    }


async def member_count(conn: Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM member")
    return count


async def all_member_texts(conn: Connection) -> list[tuple[UUID, str]]:
    records = await conn.fetch("SELECT id, expertise FROM member ORDER BY created_at, id")
    return [(record["id"], record["expertise"]) for record in records]


async def export_members(conn: Connection) -> list[dict[str, Any]]:
    """The whole network in the import schema (plus e-mail), for backups and moves."""
    records = await conn.fetch(
        """
        SELECT coalesce(m.external_id, m.id::text) AS id, m.name, m.email,
               mu.name AS municipality, mu.state, mu.kind AS municipality_type, m.role,
               m.expertise,
               coalesce((SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                         WHERE t.member_id = m.id), '{}') AS tags,
               m.languages, m.accepting_requests, m.max_open_requests
        FROM member m JOIN municipality mu ON mu.id = m.municipality_id
        ORDER BY m.created_at, m.id
        """
    )
    return [
        {**dict(record), "tags": list(record["tags"]), "languages": list(record["languages"])}
        for record in records
    ]


async def email_taken(conn: Connection, email: str, *, except_member: UUID | None = None) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM member WHERE lower(email) = lower($1) AND id IS DISTINCT "
        "FROM $2)",
        email,
        except_member,
    )
    return taken


_MEMBER_BY_ID = _MEMBER_SELECT + " WHERE m.id = $1"
# The same, locking the member's row for a change. NO KEY UPDATE, like the UPDATE that follows:
# it waits for other changes of the member, but not for the rows that merely refer to them
# (suggestions, invitations, which take KEY SHARE on the member as foreign keys). FOR UPDATE
# waited for those too, and a question storing its suggestions while an invitation or a
# profile change held members deadlocked under concurrent use.
_MEMBER_BY_ID_FOR_UPDATE = _MEMBER_BY_ID + " FOR NO KEY UPDATE OF m"


async def get_member(
    conn: Connection, member_id: UUID, *, for_update: bool = False
) -> Member | None:
    record = await conn.fetchrow(
        _MEMBER_BY_ID_FOR_UPDATE if for_update else _MEMBER_BY_ID, member_id
    )
    return None if record is None else member_from_record(record)


async def members_by_ids(
    conn: Connection, member_ids: Sequence[UUID], *, for_update: bool = False
) -> list[Member]:
    """These members (locked for a change, with ``for_update``, in the order of their ids)."""
    lock = " FOR NO KEY UPDATE OF m" if for_update else ""
    records = await conn.fetch(
        _MEMBER_SELECT + " WHERE m.id = ANY($1::uuid[]) ORDER BY m.id" + lock, list(member_ids)
    )
    return [member_from_record(record) for record in records]


async def list_members(conn: Connection) -> list[Member]:
    records = await conn.fetch(_MEMBER_SELECT + " ORDER BY m.created_at, m.id")
    return [member_from_record(record) for record in records]


@dataclass(frozen=True, slots=True)
class MemberChanges:
    """Columns of a member to set; None keeps the stored value (none of them may be NULL)."""

    name: str | None = None
    email: str | None = None
    role: str | None = None
    expertise: str | None = None
    languages: Sequence[str] | None = None
    accepting_requests: bool | None = None
    max_open_requests: int | None = None
    municipality_id: UUID | None = None

    @classmethod
    def whole(cls, row: MemberRow) -> MemberChanges:
        """Every column of ``row`` (an e-mail address it lacks is kept)."""
        return cls(
            name=row.name,
            email=row.email,
            role=row.role,
            expertise=row.expertise,
            languages=row.languages,
            accepting_requests=row.accepting_requests,
            max_open_requests=row.max_open_requests,
            municipality_id=row.municipality_id,
        )


async def update_member(conn: Connection, member_id: UUID, changes: MemberChanges) -> None:
    """Set the changed columns, and ``updated_at`` in any case."""
    await conn.execute(
        """
        UPDATE member SET
            name = coalesce($2, name),
            email = coalesce($3, email),
            role = coalesce($4, role),
            expertise = coalesce($5, expertise),
            languages = coalesce($6, languages),
            accepting_requests = coalesce($7, accepting_requests),
            max_open_requests = coalesce($8, max_open_requests),
            municipality_id = coalesce($9, municipality_id),
            updated_at = now()
        WHERE id = $1
        """,
        member_id,
        changes.name,
        changes.email,
        changes.role,
        changes.expertise,
        None if changes.languages is None else list(changes.languages),
        changes.accepting_requests,
        changes.max_open_requests,
        changes.municipality_id,
    )


async def replace_tags(conn: Connection, member_id: UUID, tags: Sequence[tuple[str, str]]) -> None:
    """Replace a member's tags with (key, display) pairs."""
    await replace_tags_of_many(conn, [(member_id, tags)])


async def replace_tags_of_many(
    conn: Connection, members: Sequence[tuple[UUID, Sequence[tuple[str, str]]]]
) -> None:
    """``replace_tags`` for several members in two statements (imports write batches). Every
    tag is kept as the member wrote it, in their order; the key serves matching only."""
    await conn.execute(
        "DELETE FROM member_tag WHERE member_id = ANY($1::uuid[])",
        [member_id for member_id, _ in members],
    )
    rows = [
        (member_id, key, display, position)
        for member_id, tags in members
        for position, (key, display) in enumerate(tags)
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO member_tag (member_id, tag_key, tag, position) VALUES ($1, $2, $3, $4)",
            rows,
        )


async def replace_passages(
    conn: Connection,
    member_id: UUID,
    *,
    model: str,
    texts: Sequence[str],
    vectors: Vector,
) -> None:
    """A member's passages for one model, replacing all earlier ones (of every model), and the
    centroid of their vectors."""
    await replace_passages_of_many(conn, [(member_id, texts, vectors)], model=model)


_PASSAGE_COLUMNS = ("member_id", "position", "text", "sentence", "searched", "model", "embedding")


async def replace_passages_of_many(
    conn: Connection, members: Sequence[tuple[UUID, Sequence[str], Vector]], *, model: str
) -> None:
    """``replace_passages`` for several members (member id, texts, vectors) in a few statements
    (imports write batches). Each passage is stored with whether it is a sentence and whether
    the dense channel searches it (``searched``). The words
    of the sentences (the expertise) are stored as the member's terms, for the lexical
    candidate channel (migration 0008). Vectors go in by binary COPY, which costs the server
    a fifth less than a pipelined INSERT a row (measured on an import's writes alone:
    docs/performance.md, "The bulk path")."""
    member_ids = [member_id for member_id, _, _ in members]
    await conn.execute("DELETE FROM passage WHERE member_id = ANY($1::uuid[])", member_ids)
    await conn.execute("DELETE FROM member_centroid WHERE member_id = ANY($1::uuid[])", member_ids)
    await conn.execute("DELETE FROM member_term WHERE member_id = ANY($1::uuid[])", member_ids)
    flags = [sentence_flags(texts) for _, texts, _ in members]
    await conn.execute(
        """
        INSERT INTO member_term (term, member_id)
        SELECT term, expertise.member_id
        FROM unnest($1::uuid[], $2::text[]) AS expertise(member_id, text),
             unnest(tsvector_to_array(to_tsvector('german', expertise.text))) AS term
        """,
        member_ids,
        [
            " ".join(text for text, sentence in zip(texts, sentences, strict=True) if sentence)
            for (_, texts, _), sentences in zip(members, flags, strict=True)
        ],
    )
    centroids = [
        (member_id, model, np.asarray(vectors, dtype=np.float32).mean(axis=0))
        for member_id, texts, vectors in members
        if len(texts)
    ]
    if centroids:
        await conn.copy_records_to_table(
            "member_centroid", records=centroids, columns=["member_id", "model", "centroid"]
        )
    rows = [
        (member_id, position, text, sentence, searched, model, np.asarray(vector, np.float32))
        for (member_id, texts, vectors), sentences in zip(members, flags, strict=True)
        for position, (text, sentence, searched, vector) in enumerate(
            zip(texts, sentences, searched_flags(sentences), vectors, strict=True)
        )
    ]
    if rows:
        await conn.copy_records_to_table("passage", records=rows, columns=_PASSAGE_COLUMNS)


async def delete_member(conn: Connection, member_id: UUID) -> bool:
    """Erase a member; passages, tags, questions, suggestions and sign-in links go with them
    (cascade), and so does every application made with their address (the one they came in
    by, and any other), with the e-mail queued for it."""
    await conn.execute(
        """
        DELETE FROM application a
        USING member m
        WHERE m.id = $1 AND (a.member_id = m.id OR lower(a.email) = lower(m.email))
        """,
        member_id,
    )
    municipality_id = await conn.fetchval(
        "DELETE FROM member WHERE id = $1 RETURNING municipality_id", member_id
    )
    if municipality_id is None:
        return False
    await conn.execute(
        "DELETE FROM municipality mu WHERE mu.id = $1 AND NOT EXISTS "
        "(SELECT 1 FROM member m WHERE m.municipality_id = mu.id)",
        municipality_id,
    )
    return True


async def tag_counts(conn: Connection) -> list[TagCount]:
    """The vocabulary: per normalized tag its most used spelling and how many members use it
    (a member with two spellings of one key counts once)."""
    records = await conn.fetch(
        """
        WITH spelled AS (
            SELECT tag_key, tag, count(*) AS n FROM member_tag WHERE tag_key <> ''
            GROUP BY tag_key, tag
        ), holders AS (
            SELECT tag_key, count(DISTINCT member_id)::int AS members FROM member_tag
            WHERE tag_key <> '' GROUP BY tag_key
        )
        SELECT (array_agg(s.tag ORDER BY s.n DESC, s.tag))[1] AS tag, h.members AS count
        FROM spelled s JOIN holders h USING (tag_key)
        GROUP BY s.tag_key, h.members
        ORDER BY count DESC, tag
        """
    )
    return [TagCount(tag=record["tag"], count=record["count"]) for record in records]


async def passages_of(conn: Connection, member_id: UUID) -> list[dict[str, Any]]:
    records = await conn.fetch(
        "SELECT position, text, model FROM passage WHERE member_id = $1 ORDER BY position",
        member_id,
    )
    return [dict(record) for record in records]


async def frequent_words(conn: Connection, words: Sequence[str], *, share: float) -> list[str]:
    """Of ``words``, those that more than ``share`` of the members' profiles use (compared as
    PostgreSQL's German full-text lexemes, as ``member_term`` holds them), and those that its
    German dictionary treats as stop words. Each word's count stops at the threshold."""
    records = await conn.fetch(
        """
        WITH network AS (SELECT ceil($2::float8 * count(*))::int AS threshold FROM member),
             word AS (
                 SELECT w, tsvector_to_array(to_tsvector('german', w)) AS terms
                 FROM unnest($1::text[]) AS w
             )
        SELECT w
        FROM word, network
        WHERE cardinality(word.terms) = 0
           OR (SELECT count(*) FROM (
                   SELECT DISTINCT t.member_id FROM member_term t
                   WHERE t.term = ANY(word.terms)
                   LIMIT network.threshold + 1
               ) AS holder) > network.threshold
        """,
        list(words),
        share,
    )
    return [record["w"] for record in records]


async def terms_of(conn: Connection, member_id: UUID) -> list[str]:
    """The words of the member's expertise as the lexical channel searches them."""
    records = await conn.fetch(
        "SELECT term FROM member_term WHERE member_id = $1 ORDER BY term", member_id
    )
    return [record["term"] for record in records]


async def members_without_passages(conn: Connection, model: str) -> list[UUID]:
    """Members whose passages were made by another model (or are missing): to reindex."""
    records = await conn.fetch(
        """
        SELECT m.id FROM member m
        WHERE NOT EXISTS (SELECT 1 FROM passage p WHERE p.member_id = m.id AND p.model = $1)
        ORDER BY m.created_at
        """,
        model,
    )
    return [record["id"] for record in records]


class Addressee(NamedTuple):
    id: UUID
    name: str
    email: str


async def member_by_email(conn: Connection, email: str) -> Addressee | None:
    """The member with this e-mail address (as the unique index compares it), with the
    address as they gave it."""
    record = await conn.fetchrow(
        "SELECT id, name, email FROM member WHERE lower(email) = lower($1)", email
    )
    return None if record is None else Addressee(record["id"], record["name"], record["email"])


async def record_welcome(conn: Connection, member_id: UUID) -> datetime:
    welcomed_at: datetime = await conn.fetchval(
        "UPDATE member SET welcomed_at = now() WHERE id = $1 RETURNING welcomed_at", member_id
    )
    return welcomed_at


async def request_email_change(
    conn: Connection,
    member_id: UUID,
    *,
    new_email: str,
    secret_hash: bytes,
    valid_for: timedelta,
) -> datetime:
    """Keep the member's new address until it is confirmed (a newer request replaces an older
    one); when the confirmation link expires."""
    expires_at: datetime = await conn.fetchval(
        """
        INSERT INTO member_email_change (member_id, new_email, secret_hash, expires_at)
        VALUES ($1, $2, $3, now() + $4::interval)
        ON CONFLICT (member_id) DO UPDATE SET
            new_email = EXCLUDED.new_email, secret_hash = EXCLUDED.secret_hash,
            created_at = now(), expires_at = EXCLUDED.expires_at
        RETURNING expires_at
        """,
        member_id,
        new_email,
        secret_hash,
        valid_for,
    )
    return expires_at


async def email_change_of(conn: Connection, secret_hash: bytes) -> tuple[UUID, str] | None:
    """The member and new address a confirmation link stands for, while it is valid."""
    record = await conn.fetchrow(
        """
        SELECT member_id, new_email FROM member_email_change
        WHERE secret_hash = $1 AND expires_at > now()
        """,
        secret_hash,
    )
    return None if record is None else (record["member_id"], record["new_email"])


async def drop_email_change(conn: Connection, member_id: UUID) -> None:
    await conn.execute("DELETE FROM member_email_change WHERE member_id = $1", member_id)


async def purge_email_changes(conn: Connection) -> int:
    """Delete address changes nobody confirmed in time; how many."""
    result = await conn.execute("DELETE FROM member_email_change WHERE expires_at < now()")
    return int(result.split()[-1])


async def keep_pending_import(conn: Connection, *, file_name: str, content: bytes) -> UUID:
    """A file the coordinator uploaded, kept for the preview until they import it."""
    import_id: UUID = await conn.fetchval(
        "INSERT INTO pending_import (file_name, content) VALUES ($1, $2) RETURNING id",
        file_name,
        content,
    )
    return import_id


async def pending_import(conn: Connection, import_id: UUID) -> tuple[str, bytes] | None:
    record = await conn.fetchrow(
        "SELECT file_name, content FROM pending_import WHERE id = $1", import_id
    )
    return None if record is None else (record["file_name"], bytes(record["content"]))


async def drop_pending_import(conn: Connection, import_id: UUID) -> None:
    await conn.execute("DELETE FROM pending_import WHERE id = $1", import_id)


async def purge_pending_imports(conn: Connection, *, older_than: timedelta) -> int:
    result = await conn.execute(
        "DELETE FROM pending_import WHERE created_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])
