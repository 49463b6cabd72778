"""All SQL an import needs beside the member rows: finding members by import id and address,
what each import wrote (``member_import``), the files kept for a preview, and the network in
the import schema (``peerconsult export``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import TypedDict
from uuid import UUID

from service.db import Connection


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
) -> dict[UUID, dict[str, object]]:
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


class ImportRecord(TypedDict):
    """What the last import wrote for a member, and when (their export shows it)."""

    fields: dict[str, object]
    imported_at: str


async def import_record(conn: Connection, member_id: UUID) -> ImportRecord | None:
    record = await conn.fetchrow(
        "SELECT fields, imported_at FROM member_import WHERE member_id = $1", member_id
    )
    if record is None:
        return None
    return ImportRecord(
        fields=json.loads(record["fields"]), imported_at=record["imported_at"].isoformat()
    )


class ExportedMember(TypedDict):
    """A member in the import schema (``peerconsult export``)."""

    id: str
    name: str
    email: str | None
    municipality: str
    state: str
    municipality_type: str | None
    role: str
    expertise: str
    tags: list[str]
    languages: list[str]
    accepting_requests: bool
    max_open_requests: int


async def export_members(conn: Connection) -> list[ExportedMember]:
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
        ExportedMember(
            id=record["id"],
            name=record["name"],
            email=record["email"],
            municipality=record["municipality"],
            state=record["state"],
            municipality_type=record["municipality_type"],
            role=record["role"],
            expertise=record["expertise"],
            tags=list(record["tags"]),
            languages=list(record["languages"]),
            accepting_requests=record["accepting_requests"],
            max_open_requests=record["max_open_requests"],
        )
        for record in records
    ]


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
