"""The service's connection pool."""

from __future__ import annotations

from service import db


async def test_every_pooled_connection_searches_the_index_as_deep_as_configured(
    database_url: str,
) -> None:
    """pgvector's HNSW scan returns at most ``hnsw.ef_search`` rows (40 by default); retrieval
    asks for more, on every request, not only on a pooled connection's first use (the pool
    resets session settings when a connection is released)."""
    pool = await db.create_pool(database_url, max_size=1)
    try:
        for _ in range(3):
            async with pool.acquire() as conn:
                assert await conn.fetchval("SHOW hnsw.ef_search") == str(db.HNSW_EF_SEARCH)
                await conn.execute("SET hnsw.ef_search = 10")  # a caller's own SET is undone
    finally:
        await pool.close()
