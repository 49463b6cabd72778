"""The service's connection pool."""

from __future__ import annotations

import logging

import pytest

from service import db


async def test_every_pooled_connection_searches_the_index_as_deep_as_configured(
    own_database_url: str,
) -> None:
    """pgvector's HNSW scan returns at most ``hnsw.ef_search`` rows (40 by default); retrieval
    asks for more, on every request, not only on a pooled connection's first use (the pool
    resets session settings when a connection is released)."""
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        for _ in range(3):
            async with pool.acquire() as conn:
                assert await conn.fetchval("SHOW hnsw.ef_search") == str(db.HNSW_EF_SEARCH)
                await conn.execute("SET hnsw.ef_search = 10")  # a caller's own SET is undone
    finally:
        await pool.close()


async def test_every_pooled_connection_plans_a_statement_once(own_database_url: str) -> None:
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
    finally:
        await pool.close()


async def test_a_failed_reconnection_is_one_log_line(
    own_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """While PostgreSQL is away, the pool logs each failed attempt to reconnect: as one line
    with the error's kind, not a traceback for every connection."""
    pool = await db.create_pool(own_database_url, max_size=1)
    await pool.close()
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError:
        logging.getLogger("asyncpg.pool").warning(
            "Failed to restore the pool connection floor; retrying", exc_info=True
        )
    [record] = [r for r in caplog.records if r.name == "asyncpg.pool"]
    assert record.exc_info is None
    assert record.getMessage() == (
        "Failed to restore the pool connection floor; retrying (ConnectionRefusedError)"
    )


class TestEmbeddedServer:
    def test_memory_follows_the_machine_within_bounds(self) -> None:
        assert db.embedded_settings(64 * 2**30)["shared_buffers"] == "8192MB"
        assert db.embedded_settings(16 * 2**30)["shared_buffers"] == "4096MB"
        assert db.embedded_settings(8 * 2**30)["shared_buffers"] == "2048MB"
        assert db.embedded_settings(256 * 2**20)["shared_buffers"] == "128MB"

    async def test_a_new_embedded_server_runs_with_its_settings(self) -> None:
        """A fresh data directory is initialized with PostgreSQL's defaults (128 MB of shared
        buffers, too few for a network's passage vectors); the server restarts once to take
        the embedded settings."""
        import asyncpg

        wanted = db.embedded_settings()
        async with db.scratch_database(None) as url:
            conn = await asyncpg.connect(url)
            try:
                takes_effect = await conn.fetchval(
                    "SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes($1)",
                    wanted["shared_buffers"],
                )
                jit = await conn.fetchval("SHOW jit")
                wal = await conn.fetchval("SHOW max_wal_size")
            finally:
                await conn.close()
        assert takes_effect
        assert jit == "off"
        assert wal == wanted["max_wal_size"]
