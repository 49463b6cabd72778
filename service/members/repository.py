"""All SQL about members and their municipalities: the member rows, their changes, and a
new e-mail address waiting for its confirmation (tags and passages:
``expertise_repository``; what imports keep: ``import_repository``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from models.members import DigestFrequency, Member, Municipality
from service.db import Connection
from service.text import fold

_MEMBER_SELECT = """
    SELECT m.id, m.name, m.email, m.role, m.expertise, m.languages, m.accepting_requests,
           m.max_open_requests, m.digest, m.created_at, m.updated_at, m.welcomed_at, m.signed_in_at,
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
        digest=record["digest"],
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


async def member_count(conn: Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM member")
    return count


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


async def set_digest(conn: Connection, member_id: UUID, digest: DigestFrequency) -> None:
    """How often the member gets the digest (a setting, not a change of their profile)."""
    await conn.execute("UPDATE member SET digest = $2 WHERE id = $1", member_id, digest.value)


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
