"""All SQL about applications for membership."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from models.applications import (
    ApplicantMunicipality,
    Application,
    ApplicationCreate,
    ApplicationStatus,
)
from service.db import Connection

_SELECT = """
    SELECT id, name, email, municipality_name, municipality_state, municipality_kind, role,
           expertise, tags, languages, message, status, created_at, confirmed_at, decided_at
    FROM application
"""


def _application(record: asyncpg.Record) -> Application:
    return Application(
        id=str(record["id"]),
        name=record["name"],
        email=record["email"],
        municipality=ApplicantMunicipality(
            name=record["municipality_name"],
            state=record["municipality_state"],
            kind=record["municipality_kind"],
        ),
        role=record["role"],
        expertise=record["expertise"],
        tags=list(record["tags"]),
        languages=list(record["languages"]),
        message=record["message"],
        status=ApplicationStatus(record["status"]),
        created_at=record["created_at"],
        confirmed_at=record["confirmed_at"],
        decided_at=record["decided_at"],
    )


async def insert(
    conn: Connection, data: ApplicationCreate, *, confirm_hash: bytes
) -> tuple[UUID, datetime]:
    """A new application; its id and when it was made."""
    record = await conn.fetchrow(
        """
        INSERT INTO application (name, email, municipality_name, municipality_state,
                                 municipality_kind, role, expertise, tags, languages, message,
                                 confirm_hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id, created_at
        """,
        data.name,
        data.email,
        data.municipality.name,
        data.municipality.state,
        data.municipality.kind,
        data.role,
        data.expertise,
        list(data.tags),
        list(data.languages),
        data.message,
        confirm_hash,
    )
    assert record is not None
    return record["id"], record["created_at"]


async def unconfirmed_for(conn: Connection, email: str, *, within: timedelta) -> int:
    """Applications made with this address within ``within`` and not confirmed yet."""
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM application
        WHERE lower(email) = lower($1) AND confirmed_at IS NULL
          AND created_at > now() - $2::interval
        """,
        email,
        within,
    )
    return count


async def confirmable(conn: Connection, confirm_hash: bytes, *, within: timedelta) -> bool:
    """Whether a confirmation link still confirms (without using it)."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM application
                       WHERE confirm_hash = $1 AND created_at > now() - $2::interval)
        """,
        confirm_hash,
        within,
    )
    return found


async def confirm(conn: Connection, confirm_hash: bytes, *, within: timedelta) -> UUID | None:
    """Confirm the application of this link (the link then ends); None for no such link."""
    application_id: UUID | None = await conn.fetchval(
        """
        UPDATE application SET confirmed_at = now(), confirm_hash = NULL
        WHERE confirm_hash = $1 AND created_at > now() - $2::interval
        RETURNING id
        """,
        confirm_hash,
        within,
    )
    return application_id


async def get(
    conn: Connection, application_id: UUID, *, for_update: bool = False
) -> Application | None:
    """A confirmed application (unconfirmed ones are nobody's business but the applicant's)."""
    statement = _SELECT + " WHERE id = $1 AND confirmed_at IS NOT NULL"
    if for_update:
        statement += " FOR NO KEY UPDATE"
    record = await conn.fetchrow(statement, application_id)
    return None if record is None else _application(record)


async def of_member(conn: Connection, member_id: UUID) -> list[Application]:
    """The applications the member came in by, or made with their address (for their
    export)."""
    records = await conn.fetch(
        _SELECT
        + """ a WHERE a.member_id = $1
              OR lower(a.email) = (SELECT lower(email) FROM member WHERE id = $1)
            ORDER BY a.created_at""",
        member_id,
    )
    return [_application(record) for record in records]


async def confirmed(conn: Connection, status: ApplicationStatus | None) -> list[Application]:
    """The confirmed applications (of one status, or all), oldest first."""
    records = await conn.fetch(
        _SELECT
        + " WHERE confirmed_at IS NOT NULL AND ($1::text IS NULL OR status = $1)"
        + " ORDER BY created_at, id",
        None if status is None else status.value,
    )
    return [_application(record) for record in records]


async def decide(
    conn: Connection,
    application_id: UUID,
    status: ApplicationStatus,
    *,
    reason: str | None = None,
    member_id: UUID | None = None,
) -> Application:
    record = await conn.fetchrow(
        """
        UPDATE application
        SET status = $2, decided_at = now(), decline_reason = $3, member_id = $4
        WHERE id = $1
        RETURNING id, name, email, municipality_name, municipality_state, municipality_kind,
                  role, expertise, tags, languages, message, status, created_at, confirmed_at,
                  decided_at
        """,
        application_id,
        status.value,
        reason,
        member_id,
    )
    assert record is not None
    return _application(record)


async def purge(conn: Connection, *, unconfirmed_after: timedelta, decided_after: timedelta) -> int:
    """Delete unconfirmed applications, and decided ones, kept as long as they may be; how
    many."""
    result = await conn.execute(
        """
        DELETE FROM application
        WHERE (confirmed_at IS NULL AND created_at < now() - $1::interval)
           OR (decided_at < now() - $2::interval)
        """,
        unconfirmed_after,
        decided_after,
    )
    return int(result.split()[-1])
