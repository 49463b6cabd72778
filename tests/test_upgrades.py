"""Upgrading an installation with data: what each migration does to what is there (the schema
alone is built by every test run)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from service import db
from tests.helpers.database import own_database


@pytest_asyncio.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    """A database without any schema, for migrating step by step."""
    async with own_database(server_url) as url:
        yield url


async def _place(conn: asyncpg.Connection, name: str, state: str, key: str) -> object:
    return await conn.fetchval(
        "INSERT INTO municipality (name, state, name_key, state_key) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        name,
        state,
        name.lower(),
        key,
    )


async def _member(conn: asyncpg.Connection, name: str, place: object) -> None:
    await conn.execute(
        "INSERT INTO member (municipality_id, name, email, expertise, token_hash) "
        "VALUES ($1, $2, $3, 'Bürgerbeteiligung', $4)",
        place,
        name,
        f"{name.lower()}@example.org",
        name.encode(),
    )


async def test_0013_writes_states_out_and_merges_a_place_that_then_exists_twice(
    empty_url: str,
) -> None:
    await asyncio.to_thread(db.migrate, empty_url, "0012_identity")
    conn = await asyncpg.connect(empty_url)
    try:
        await _member(conn, "Anna", await _place(conn, "Mainz", "RLP", "rlp"))
        await _member(conn, "Bernd", await _place(conn, "Mainz", "Rheinland-Pfalz",
                                                  "rheinland pfalz"))  # fmt: skip
        await _member(conn, "Cem", await _place(conn, "Köln", "NRW", "nrw"))
        await _member(conn, "Dana", await _place(conn, "Atlantis", "Atlantis", "atlantis"))
        await db.migrate_async(empty_url)
        places = await conn.fetch(
            "SELECT mu.name, mu.state, mu.state_key, array_agg(m.name ORDER BY m.name) AS members "
            "FROM municipality mu JOIN member m ON m.municipality_id = mu.id "
            "GROUP BY mu.id ORDER BY mu.name"
        )
    finally:
        await conn.close()
    assert [(p["name"], p["state"], p["state_key"], list(p["members"])) for p in places] == [
        ("Atlantis", "Atlantis", "atlantis", ["Dana"]),
        ("Köln", "Nordrhein-Westfalen", "nordrhein westfalen", ["Cem"]),
        ("Mainz", "Rheinland-Pfalz", "rheinland pfalz", ["Anna", "Bernd"]),
    ]
