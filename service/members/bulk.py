"""Bulk loads: the passage vector indexes are built once after loading, not row by row.

Inserting a passage into an HNSW graph costs a search of the graph and writes to its neighbours'
pages; building the graph in memory after the rows are in costs a fraction of that (measured:
an import of 1,000 synthetic members ran at 0.39x the raw embedder's speed with the index
maintained row by row, at 0.76x with the index built at the end; docs/performance.md). So
an import that brings at least as many members as the network has (the first import, a move)
sets the indexes aside and builds them at the end, as pgvector's documentation advises for
loading. While they are away, retrieval still works, by exact search.

Set-aside definitions are kept in ``deferred_index`` in the same transaction as the drop, so
nothing is lost when an import dies half-way: ``restore_indexes`` (at the next import, at
``peerconsult migrate`` and at server start) builds whatever is still deferred.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from service.db import Connection
from service.members import repository

log = logging.getLogger(__name__)

# Imports smaller than this keep the indexes: a rebuild of a small network costs more than
# inserting a few hundred members into its graph.
BULK_MINIMUM_MEMBERS = 500
# Memory for building a graph in one piece: about 3 kB an indexed 512-dimensional passage
# (measured: the graph of 89,393 passages fitted in 261 MB and outgrew 200 MB after 75,279), at
# least the first, at most the last. Larger graphs are built on disk, slower but correctly,
# and the build says so in the log.
BUILD_MEMORY_PER_ROW_KB = 3
MIN_BUILD_MEMORY_MB = 64
MAX_BUILD_MEMORY_MB = 4096
# pgvector's notice when a graph outgrows its memory and the build goes on on disk (measured on
# 10,000 synthetic members: 39.8 s instead of 24.8).
_OUTGROWN = "no longer fits into maintenance_work_mem"
# A build of a large network's graph takes minutes, beyond the pool's statement timeout.
BUILD_TIMEOUT_S = 6 * 3600
# Held by a bulk load from start to end: bulk loads run one at a time, and nobody else builds
# the indexes a bulk load has set aside while it is loading.
BULK_LOCK = 0x70C0_B01C


def is_bulk(
    incoming_members: int, current_members: int, minimum: int = BULK_MINIMUM_MEMBERS
) -> bool:
    """Whether loading this many members into a network of this size should defer indexes."""
    return incoming_members >= max(minimum, current_members)


async def defer_indexes(conn: Connection) -> list[str]:
    """Drop the HNSW indexes on ``passage``, keeping their definitions; returns their names."""
    async with conn.transaction():
        records = await conn.fetch(
            """
            INSERT INTO deferred_index (name, definition)
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'passage'
              AND indexdef ILIKE '% USING hnsw %'
            ON CONFLICT (name) DO NOTHING
            RETURNING name
            """
        )
        names = [record["name"] for record in records]
        for name in names:
            await conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return names


@dataclass
class BulkLoad:
    """What ``bulk_load`` did: whether it set the vector indexes aside, and the seconds that
    building them took at the end (0 when none was built)."""

    deferred: bool
    index_build_s: float = 0.0


def _warn_if_outgrown(connection: object, message: asyncpg.PostgresLogMessage) -> None:
    """Log pgvector's notice that a graph no longer fits in memory as the warning it is."""
    if _OUTGROWN in str(message.message):
        log.warning(
            "%s: the rest of the graph is built on disk, which is slower; raise "
            "MAX_BUILD_MEMORY_MB or BUILD_MEMORY_PER_ROW_KB (service/members/bulk.py)",
            message.message,
        )


async def restore_indexes(conn: Connection) -> list[str]:
    """Build every deferred index; returns their names. Safe to call from several processes at
    once: each deferred index is built by one of them, the others skip it; while a bulk load is
    running (in another session), its indexes are left to it."""
    built: list[str] = []
    while True:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", BULK_LOCK):
                return built
            record = await conn.fetchrow(
                "SELECT name, definition FROM deferred_index ORDER BY name "
                "LIMIT 1 FOR UPDATE SKIP LOCKED"
            )
            if record is None:
                return built
            # The rows the index will hold: a partial index's predicate (after " WHERE " in
            # the definition pg_indexes wrote) holds fewer than the table. Like the definition
            # itself, this is SQL from the catalog, not a value.
            _, _, predicate = record["definition"].partition(" WHERE ")
            rows: int = await conn.fetchval(
                f"SELECT count(*) FROM passage WHERE {predicate or 'true'}"
            )
            memory_mb = max(
                MIN_BUILD_MEMORY_MB,
                min(MAX_BUILD_MEMORY_MB, rows * BUILD_MEMORY_PER_ROW_KB // 1024),
            )
            await conn.execute(
                "SELECT set_config('maintenance_work_mem', $1, true)", f"{memory_mb}MB"
            )
            log.info(
                "building index %s over %d passages with %d MB", record["name"], rows, memory_mb
            )
            # The definition comes from pg_indexes (written by defer_indexes), not from a user.
            definition = record["definition"].replace(
                "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1
            )
            started = time.perf_counter()
            conn.add_log_listener(_warn_if_outgrown)
            try:
                await conn.execute(definition, timeout=BUILD_TIMEOUT_S)
            finally:
                conn.remove_log_listener(_warn_if_outgrown)
            log.info("built index %s in %.1f s", record["name"], time.perf_counter() - started)
            await conn.execute("DELETE FROM deferred_index WHERE name = $1", record["name"])
            built.append(record["name"])


async def refresh_statistics(conn: Connection) -> None:
    """After a bulk load, as PostgreSQL advises: fresh planner statistics for the tables it
    wrote, and the visibility maps of the tag and term tables set. A question reads the
    network's size from the statistics (until autovacuum's analysis, a network that was small
    when last analyzed would be ranked in full), and reads the holders of a tag or a word from
    those tables' indexes alone, stopping at its bound, only where the pages are marked
    all-visible (otherwise the planner scans every holder through a bitmap)."""
    await conn.execute("VACUUM (ANALYZE) member_tag, member_term")
    await conn.execute("ANALYZE member, municipality, passage, member_centroid")


@asynccontextmanager
async def bulk_load(
    pool: asyncpg.Pool, incoming_members: int, *, minimum: int = BULK_MINIMUM_MEMBERS
) -> AsyncIterator[BulkLoad]:
    """Around a load of ``incoming_members``: indexes deferred if it is a bulk load, and every
    deferred index built afterwards, whether the load succeeded. Yields a ``BulkLoad``, which
    tells whether it was one and, once the block is left, how long the build took."""
    async with pool.acquire() as conn:
        # One connection holds the lock throughout (a session lock: the pool releases it, if
        # this does not, when the connection goes back).
        await conn.execute("SELECT pg_advisory_lock($1)", BULK_LOCK)
        try:
            await restore_indexes(conn)  # left over from an import that died
            load = BulkLoad(
                deferred=is_bulk(incoming_members, await repository.member_count(conn), minimum)
            )
            if load.deferred:
                await defer_indexes(conn)
            try:
                yield load
            finally:
                started = time.perf_counter()
                if await restore_indexes(conn):
                    load.index_build_s = time.perf_counter() - started
            if load.deferred:
                await refresh_statistics(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", BULK_LOCK)
