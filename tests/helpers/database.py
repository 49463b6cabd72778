"""Test databases: the run's one database, and a pool of one connection inside a test's
transaction, which the test rolls back."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from service.db import Connection

TEMPLATE = "peerconsult_test_template"


def with_database(url: str, name: str) -> str:
    """``url`` with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def own_database(server_url: str, *, template: str | None = None) -> AsyncIterator[str]:
    """A database of its own on the server, a copy of ``template`` (the conftest's migrated
    ``TEMPLATE``) or empty, dropped afterwards."""
    name = f"peerconsult_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        if template is None:
            await admin.execute(f'CREATE DATABASE "{name}"')
        else:
            await admin.execute(
                f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'
            )
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class TransactionPool:
    """A pool of one connection that stays inside the test's transaction: whoever acquires it
    (a request, the e-mail sender, the housekeeping round) gets that connection, one at a time,
    inside a savepoint of its own, so a failed statement is undone as a pool's own transaction
    would be, and everything is rolled back with the test.

    It serves what the service asks of an ``asyncpg.Pool`` (``acquire`` and the one-statement
    shortcuts); ``as_pool`` hands it over under that type. Work that needs several connections
    at once, other processes or statements that cannot run in a transaction (VACUUM) takes a
    database of its own instead (the ``own_database_url`` fixture)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def acquire(self, **_asyncpg_options: Any) -> AsyncIterator[Connection]:
        """The connection, when it is this caller's turn (asyncpg's ``timeout`` is accepted
        and not needed: a test's requests take their turns within moments)."""
        async with self._turn, self._conn.transaction():
            yield self._conn

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def close(self) -> None:
        """The test's fixture closes the connection."""

    def as_pool(self) -> asyncpg.Pool:
        return cast(asyncpg.Pool, self)


async def insert_member(
    pool: asyncpg.Pool, *, name: str = "Jörg Müller", email_address: str | None = None
) -> UUID:
    """A municipality and a member in it, straight in SQL."""
    key = secrets.token_hex(4)
    async with pool.acquire() as conn, conn.transaction():
        municipality_id: UUID = await conn.fetchval(
            """
            INSERT INTO municipality (name, state, name_key, state_key)
            VALUES ($1, 'Hessen', $2, 'hessen') RETURNING id
            """,
            f"Gießen {key}",
            f"giessen {key}",
        )
        member_id: UUID = await conn.fetchval(
            """
            INSERT INTO member (municipality_id, name, email, expertise, token_hash)
            VALUES ($1, $2, $3, 'Bürgerbeteiligung', $4) RETURNING id
            """,
            municipality_id,
            name,
            email_address or f"member-{key}@example.org",
            secrets.token_bytes(32),
        )
    return member_id


async def tables(conn: Connection) -> list[str]:
    records = await conn.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
        "AND table_name <> 'alembic_version'"
    )
    return [record["table_name"] for record in records]


async def rows_mentioning(db_pool: TransactionPool, needles: list[str]) -> dict[str, int]:
    """For every table, how many rows mention any needle in any column (as text)."""
    async with db_pool.acquire() as conn:
        return await _rows_mentioning(conn, needles)


async def _rows_mentioning(conn: Connection, needles: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in await tables(conn):
        count = await conn.fetchval(
            f"SELECT count(*) FROM {table} t WHERE "  # table names come from the catalog
            + " OR ".join(f"t::text ILIKE ${i}" for i in range(1, len(needles) + 1)),
            *[f"%{needle}%" for needle in needles],
        )
        if count:
            found[table] = count
    return found
