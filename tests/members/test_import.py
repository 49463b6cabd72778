"""Importing members in batches, and bulk loads that build the vector index once at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import asyncpg
import numpy as np
import pytest
import pytest_asyncio

from lab.bench import index
from service import db
from service.embedding import Embedder, Vector
from service.members import bulk, importer
from service.members.import_file import ImportRow
from service.questions import retrieval
from tests.helpers import factories
from tests.helpers.processes import run_cli

INDEX = "passage_searched_use_hnsw_idx"


@pytest_asyncio.fixture
async def pool(own_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(own_database_url, max_size=2)
    yield pool
    await pool.close()


async def index_definitions(pool: asyncpg.Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        records = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'passage'"
        )
        return {record["indexname"]: record["indexdef"] for record in records}


async def deferred(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [r["name"] for r in await conn.fetch("SELECT name FROM deferred_index")]


async def explain(conn: asyncpg.pool.PoolConnectionProxy, statement: str, *args: object) -> str:
    return "\n".join(record[0] for record in await conn.fetch(f"EXPLAIN {statement}", *args))


def network(size: int, *, start: int = 0) -> list[ImportRow]:
    return importer.validate_records(factories.network(size, start=start))


class FailingEmbedder(Embedder):
    """The real model, failing on its n-th call (an import dying half-way)."""

    def __init__(self, embedder: Embedder, fail_on_call: int) -> None:
        self._embedder = embedder
        self._calls = 0
        self._fail_on_call = fail_on_call
        self.name = embedder.name
        self.dimension = embedder.dimension

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embedder.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        self._calls += 1
        if self._calls == self._fail_on_call:
            raise RuntimeError("the model crashed")
        return self._embedder.embed_documents(texts)


class TestBulkDecision:
    def test_a_load_at_least_the_size_of_the_network_is_bulk(self) -> None:
        assert bulk.is_bulk(10_000, 0)
        assert bulk.is_bulk(1_000, 1_000)
        assert not bulk.is_bulk(999, 1_000)

    def test_small_loads_keep_the_index(self) -> None:
        assert not bulk.is_bulk(bulk.BULK_MINIMUM_MEMBERS - 1, 0)
        assert not bulk.is_bulk(40, 10_000)


class TestBulkImport:
    async def test_index_is_rebuilt_as_the_migration_defined_it_and_serves_search(
        self, pool: asyncpg.Pool, embedder: Embedder
    ) -> None:
        before = await index_definitions(pool)
        assert INDEX in before
        report = await importer.import_members(
            pool, embedder, network(30), batch_size=8, bulk_minimum=10
        )
        assert report.created == 30
        assert await index_definitions(pool) == before
        assert await deferred(pool) == []
        # The rebuilt index answers the retrieval query as exact search does.
        query = embedder.embed_queries(["Wie habt ihr einen Bürgerhaushalt aufgebaut?"])[0]
        async with pool.acquire() as conn:
            async with conn.transaction():
                # A small table would be sorted; without sorting, only the index can order.
                await conn.execute("SET LOCAL enable_sort = off")
                # Planned anew under each setting (the connections keep one plan).
                await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                vector = np.asarray(query, dtype=np.float32)
                nearest_plan = await explain(
                    conn, index.NEAREST_PASSAGES, embedder.name, vector, 10
                )
                # The candidate statement of a large network finds its nearest passages so too.
                asker = await conn.fetchval("SELECT id FROM member LIMIT 1")
                candidates_plan = await explain(
                    conn, retrieval.CANDIDATES_RETRIEVED, asker, embedder.name, vector, [], 10, []
                )
                nearest = await index.nearest_passages(
                    conn, model=embedder.name, query_vector=query, limit=10
                )
            assert INDEX in nearest_plan
            assert INDEX in candidates_plan
            async with conn.transaction():
                await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                await conn.execute("SET LOCAL enable_indexscan = off")
                exact = await index.nearest_passages(
                    conn, model=embedder.name, query_vector=query, limit=10
                )
        assert [pid for pid, _ in nearest] == [pid for pid, _ in exact]

    async def test_an_import_that_fails_half_way_leaves_the_index_built(
        self, pool: asyncpg.Pool, embedder: Embedder
    ) -> None:
        before = await index_definitions(pool)
        with pytest.raises(RuntimeError, match="the model crashed"):
            await importer.import_members(
                pool,
                FailingEmbedder(embedder, fail_on_call=2),
                network(30),
                batch_size=8,
                bulk_minimum=10,
            )
        assert await index_definitions(pool) == before
        assert await deferred(pool) == []
        async with pool.acquire() as conn:  # the batch written before the failure stays
            assert await conn.fetchval("SELECT count(*) FROM member") == 8

    async def test_a_small_import_into_a_larger_network_keeps_the_index(
        self, pool: asyncpg.Pool, embedder: Embedder
    ) -> None:
        first = await importer.import_members(pool, embedder, network(12), bulk_minimum=10)
        async with pool.acquire() as conn:
            oid = await conn.fetchval("SELECT to_regclass($1)::oid", INDEX)
        second = await importer.import_members(
            pool, embedder, network(11, start=100), bulk_minimum=10
        )
        async with pool.acquire() as conn:
            # Not dropped and built again: the same index object.
            assert await conn.fetchval("SELECT to_regclass($1)::oid", INDEX) == oid
        # The report says how long the index took to build, when it was built.
        assert first.index_build_s > 0
        assert second.index_build_s == 0

    async def test_a_graph_that_outgrows_its_memory_is_reported(
        self,
        pool: asyncpg.Pool,
        embedder: Embedder,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """pgvector goes on building on disk, which is slower; the log says so and where to
        give it more memory. The index is built all the same. The memory is sized for the rows
        the index holds (the searched passages), not for the whole table."""
        monkeypatch.setattr(bulk, "MIN_BUILD_MEMORY_MB", 1)  # PostgreSQL's least
        monkeypatch.setattr(bulk, "BUILD_MEMORY_PER_ROW_KB", 0)
        before = await index_definitions(pool)
        with caplog.at_level("INFO", logger=bulk.log.name):
            report = await importer.import_members(pool, embedder, network(100), bulk_minimum=10)
        async with pool.acquire() as conn:
            searched = await conn.fetchval("SELECT count(*) FROM passage WHERE searched")
        assert searched * 3 > 1024  # about 3 kB a passage: more than 1 MB of graph
        assert searched < report.passages
        messages = [r.getMessage() for r in caplog.records]
        assert f"building index {INDEX} over {searched} passages with 1 MB" in messages
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any("no longer fits" in w and "MAX_BUILD_MEMORY_MB" in w for w in warnings)
        assert await index_definitions(pool) == before


class TestInterruptedImport:
    """An import killed while its indexes were set aside leaves their definitions behind."""

    async def test_the_next_import_builds_the_index_first(
        self, pool: asyncpg.Pool, embedder: Embedder
    ) -> None:
        before = await index_definitions(pool)
        async with pool.acquire() as conn:
            assert await bulk.defer_indexes(conn) == [INDEX]
        assert INDEX not in await index_definitions(pool)
        assert await deferred(pool) == [INDEX]
        await importer.import_members(pool, embedder, network(3))
        assert await index_definitions(pool) == before
        assert await deferred(pool) == []

    async def test_migrate_builds_the_index(
        self, pool: asyncpg.Pool, own_database_url: str
    ) -> None:
        before = await index_definitions(pool)
        async with pool.acquire() as conn:
            await bulk.defer_indexes(conn)
        result = run_cli("migrate", env={"DATABASE_URL": own_database_url})
        assert result.returncode == 0, result.stderr
        assert INDEX in result.stdout + result.stderr
        assert await index_definitions(pool) == before

    async def test_two_processes_restoring_at_once_build_each_index_once(
        self, pool: asyncpg.Pool, own_database_url: str
    ) -> None:
        async with pool.acquire() as conn:
            await bulk.defer_indexes(conn)
        other = await db.create_pool(own_database_url, max_size=1)
        try:
            async with pool.acquire() as first, other.acquire() as second:
                built = await asyncio.gather(
                    bulk.restore_indexes(first), bulk.restore_indexes(second)
                )
        finally:
            await other.close()
        assert sorted(built[0] + built[1]) == [INDEX]

    async def test_others_leave_a_running_bulk_loads_indexes_alone(
        self, pool: asyncpg.Pool, own_database_url: str
    ) -> None:
        other = await db.create_pool(own_database_url, max_size=1)
        try:
            async with bulk.bulk_load(pool, 1000, minimum=10) as load:
                assert load.deferred
                assert INDEX not in await index_definitions(pool)
                async with other.acquire() as conn:  # a server starting meanwhile
                    assert await bulk.restore_indexes(conn) == []
                assert INDEX not in await index_definitions(pool)
        finally:
            await other.close()
        assert INDEX in await index_definitions(pool)
        assert await deferred(pool) == []


class TestBatchWrites:
    async def test_members_tags_and_places_are_written_as_one_by_one(
        self, pool: asyncpg.Pool, embedder: Embedder
    ) -> None:
        records = [
            {"id": "a", "name": "Anna", "municipality": "Kassel", "state": "Hessen",
             "expertise": "Ich habe einen Bürgerhaushalt eingeführt.",
             "tags": ["Bürgerhaushalt", "bürgerhaushalt", "Haushalt"]},
            {"id": "b", "name": "Bernd", "municipality": "KASSEL", "state": "hessen",
             "municipality_type": "Großstadt", "email": "bernd@example.org",
             "expertise": "Ich habe einen Bürgerrat begleitet.", "tags": ["Bürgerrat"]},
            {"id": "c", "name": "Cem", "municipality": "Fulda", "state": "Hessen",
             "expertise": "Ich habe Jugendbeteiligung aufgebaut.", "tags": []},
        ]  # fmt: skip
        report = await importer.import_members(
            pool, embedder, importer.validate_records(records), batch_size=2
        )
        assert (report.created, report.updated) == (3, 0)
        async with pool.acquire() as conn:
            places = await conn.fetch("SELECT name, kind FROM municipality ORDER BY name")
            tags = await conn.fetch(
                "SELECT m.external_id, t.tag, t.position FROM member_tag t "
                "JOIN member m ON m.id = t.member_id ORDER BY m.external_id, t.position"
            )
        # One Kassel (the first spelling), with the kind the second record knew.
        assert [(p["name"], p["kind"]) for p in places] == [
            ("Fulda", None),
            ("Kassel", "Großstadt"),
        ]
        assert [(t["external_id"], t["tag"], t["position"]) for t in tags] == [
            ("a", "Bürgerhaushalt", 0),
            ("a", "Haushalt", 1),
            ("b", "Bürgerrat", 0),
        ]
        records[0]["expertise"] = "Ich berate zu Leitlinien für Bürgerbeteiligung."
        records[0]["tags"] = ["Leitlinien"]
        again = await importer.import_members(
            pool, embedder, importer.validate_records(records), batch_size=2
        )
        assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM member") == 3
            anna = await conn.fetchrow(
                "SELECT m.id, array_agg(t.tag) AS tags FROM member m "
                "JOIN member_tag t ON t.member_id = m.id WHERE m.external_id = 'a' GROUP BY m.id"
            )
            assert anna is not None
            assert list(anna["tags"]) == ["Leitlinien"]
            passages = await conn.fetch("SELECT text FROM passage WHERE member_id = $1", anna["id"])
            assert [p["text"] for p in passages] == [records[0]["expertise"]]
