"""Networks loaded straight into a database of any schema version, and what they stored: for
tests of the storage itself (retrieval, upgrades)."""

from __future__ import annotations

import asyncpg

from service import db
from service.embedding import Embedder
from service.members import importer
from tests.helpers import factories

TOAST_SIZE = "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'passage'"


async def passages(url: str) -> list[tuple[str, int, str]]:
    conn = await asyncpg.connect(url)
    try:
        records = await conn.fetch(
            "SELECT member_id::text, position, text FROM passage ORDER BY member_id, position"
        )
        return [(r["member_id"], r["position"], r["text"]) for r in records]
    finally:
        await conn.close()


async def execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def toast_size(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        size: int = await conn.fetchval(TOAST_SIZE)
        return size
    finally:
        await conn.close()


# What today's import reads and writes beside the members (the `everyday_use` migration), for
# loading with it into an older schema: made for the load and dropped again, so the upgrade makes
# them.
IMPORT_TABLES = {
    "member_import": "CREATE TABLE member_import (member_id uuid PRIMARY KEY, fields jsonb, "
    "imported_at timestamptz DEFAULT now())",
    "server_key": "CREATE TABLE server_key (name text PRIMARY KEY, key bytea); "
    "INSERT INTO server_key VALUES ('erasure', '\\x00')",
    "erased_identity": "CREATE TABLE erased_identity (key_hash bytea PRIMARY KEY)",
}


async def load_records(url: str, embedder: Embedder, records: list[dict[str, object]]) -> None:
    pool = await db.create_pool(url, max_size=2)
    made = []
    try:
        for table, statement in IMPORT_TABLES.items():
            if await pool.fetchval("SELECT to_regclass($1) IS NULL", table):
                await pool.execute(statement)
                made.append(table)
        await importer.import_members(pool, embedder, importer.validate_records(records))
    finally:
        for table in made:
            await pool.execute(f"DROP TABLE {table}")
        await pool.close()


async def load(url: str, embedder: Embedder, members: int) -> None:
    await load_records(url, embedder, factories.network(members))
