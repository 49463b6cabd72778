"""How passages are stored: whole rows, so that scoring a question's candidates reads no TOAST."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import numpy as np
import pytest_asyncio

from service import db
from service.bench import synthetic
from service.embeddings import Embedder
from service.members import importer
from service.questions import repository as questions
from tests.conftest import with_database

TOAST_SIZE = "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'passage'"


@pytest_asyncio.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    """A database without any schema, for migrating step by step."""
    name = f"peerconsult_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def passages(url: str) -> list[tuple[str, int, str]]:
    conn = await asyncpg.connect(url)
    try:
        records = await conn.fetch(
            "SELECT member_id::text, position, text FROM passage ORDER BY member_id, position"
        )
        return [(r["member_id"], r["position"], r["text"]) for r in records]
    finally:
        await conn.close()


async def toast_size(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        size: int = await conn.fetchval(TOAST_SIZE)
        return size
    finally:
        await conn.close()


async def load(url: str, embedder: Embedder, members: int) -> None:
    pool = await db.create_pool(url, max_size=2)
    try:
        records = importer.validate_records(synthetic.network(members))
        await importer.import_members(pool, embedder, records)
    finally:
        await pool.close()


async def test_upgrade_moves_passage_texts_back_into_their_rows(
    empty_url: str, embedder: Embedder
) -> None:
    """Before migration 0006 a passage row (a 512-d vector kept inline, and its text) was just
    over the TOAST threshold, so its text lived out of line; the upgrade rewrites the rows whole
    and keeps every passage."""
    await asyncio.to_thread(db.migrate, empty_url, "0005_vectors_inline")
    await load(empty_url, embedder, 12)
    before = await passages(empty_url)
    assert await toast_size(empty_url) > 0  # the texts went out of line

    await db.migrate_async(empty_url)

    assert await toast_size(empty_url) == 0
    assert await passages(empty_url) == before


async def test_new_passages_stay_in_their_rows(database_url: str, embedder: Embedder) -> None:
    await load(database_url, embedder, 12)
    assert await passages(database_url)
    assert await toast_size(database_url) == 0


async def test_candidates_carry_their_stored_centroids(
    database_url: str, embedder: Embedder
) -> None:
    """Centroids travel packed (pgvector's binary format) and decode to the stored vector."""
    await load(database_url, embedder, 6)
    pool = await db.create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            stored = {
                str(r["member_id"]): np.asarray(r["centroid"].to_numpy())
                for r in await conn.fetch("SELECT member_id, centroid FROM member_centroid")
            }
            asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
            candidates = await questions.candidates(
                conn,
                asker_id=asker,
                model=embedder.name,
                query_vector=embedder.embed_queries(["Bürgerhaushalt"])[0],
                retrieval=None,
            )
    finally:
        await pool.close()
    assert candidates
    for candidate in candidates:
        decoded = np.asarray(candidate.centroid, dtype=np.float32)
        assert decoded.dtype == np.float32
        np.testing.assert_array_equal(decoded, stored[candidate.member_id])
