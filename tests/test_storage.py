"""How passages are stored: whole rows, so that scoring a question's candidates reads no TOAST."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import numpy as np
import pytest
import pytest_asyncio

from lab.bench import index
from service import db
from service.db import Connection
from service.embedding import Embedder
from service.matching.rank import rank
from service.matching.types import Candidate, Query
from service.members import bulk, importer
from service.questions import repository as questions
from service.questions import retrieval
from service.questions import service as questions_service
from tests.helpers import factories
from tests.helpers.database import own_database

# A suggestion as a person sees it: who, how good, which passage.
Shown = tuple[str, float, str | None]

TOAST_SIZE = "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'passage'"


@pytest_asyncio.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    """A database without any schema, for migrating step by step."""
    async with own_database(server_url) as url:
        yield url


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


# What today's import reads and writes beside the members (migration 0013), for loading with
# it into an older schema: made for the load and dropped again, so the upgrade makes them.
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


async def test_upgrade_moves_passage_texts_back_into_their_rows(
    empty_url: str, embedder: Embedder
) -> None:
    """Before migration 0006 a passage row (a 512-d vector kept inline, and its text) was just
    over the TOAST threshold, so its text lived out of line; the upgrade rewrites the rows whole
    and keeps every passage."""
    await asyncio.to_thread(db.migrate, empty_url, "0005_vectors_inline")
    # Today's import writes the columns of migrations 0007 and 0009 and the table of 0008;
    # they exist only while loading, so the upgrade starts from the 0005 schema.
    await execute(empty_url, "ALTER TABLE passage ADD COLUMN sentence boolean")
    await execute(empty_url, NEWER_SEARCHED_COLUMN)
    await execute(empty_url, NEWER_TERMS_TABLE)
    await load(empty_url, embedder, 12)
    await execute(
        empty_url,
        "ALTER TABLE passage DROP COLUMN sentence, DROP COLUMN searched; DROP TABLE member_term",
    )
    before = await passages(empty_url)
    assert await toast_size(empty_url) > 0  # the texts went out of line

    await db.migrate_async(empty_url)

    assert await toast_size(empty_url) == 0
    assert await passages(empty_url) == before


# Migration 0008's table and 0009's column, for loading with today's import into an older
# schema.
NEWER_TERMS_TABLE = "CREATE TABLE member_term (term text, member_id uuid)"
NEWER_SEARCHED_COLUMN = "ALTER TABLE passage ADD COLUMN searched boolean"


async def terms(url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        records = await conn.fetch("SELECT member_id::text, term FROM member_term")
    finally:
        await conn.close()
    by_member: dict[str, set[str]] = {}
    for record in records:
        by_member.setdefault(record["member_id"], set()).add(record["term"])
    return by_member


async def test_upgrade_finds_the_words_of_every_expertise(
    empty_url: str, embedder: Embedder
) -> None:
    """Migration 0008 writes the terms of the members who are there, as a new profile gets
    them: the stemmed words of the expertise without stop words."""
    await asyncio.to_thread(db.migrate, empty_url, "0007_passage_sentences")
    await execute(empty_url, NEWER_TERMS_TABLE)
    await execute(empty_url, NEWER_SEARCHED_COLUMN)
    await load(empty_url, embedder, 12)
    written = await terms(empty_url)
    await execute(empty_url, "DROP TABLE member_term; ALTER TABLE passage DROP COLUMN searched")

    await db.migrate_async(empty_url)

    assert len(written) == 12
    assert await terms(empty_url) == written
    words = set().union(*written.values())
    assert {"burgerhaushalt", "jugendbeteil"} & words
    assert not {"ich", "und", "die"} & words


async def hnsw_indexes(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        records = await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'passage' "
            "AND indexdef ILIKE '% USING hnsw %'"
        )
        return {record["indexname"] for record in records}
    finally:
        await conn.close()


def one_sentence_member(number: int) -> dict[str, object]:
    """A member whose whole expertise is one sentence: no windows."""
    record = factories.member_record(number)
    record["expertise"] = (
        "Ich habe in unserer Gemeinde einen Bürgerhaushalt mit Losverfahren eingeführt."
    )
    return record


async def searched_flags(url: str) -> dict[str, list[tuple[bool | None, bool]]]:
    """Each member's passages as (sentence, searched), in order."""
    conn = await asyncpg.connect(url)
    try:
        records = await conn.fetch(
            "SELECT m.external_id, p.sentence, p.searched FROM passage p "
            "JOIN member m ON m.id = p.member_id ORDER BY m.external_id, p.position"
        )
    finally:
        await conn.close()
    flags: dict[str, list[tuple[bool | None, bool]]] = {}
    for record in records:
        flags.setdefault(record["external_id"], []).append((record["sentence"], record["searched"]))
    return flags


async def test_upgrade_searches_the_windows_and_forgets_a_set_aside_index(
    empty_url: str, embedder: Embedder
) -> None:
    """Migration 0009 flags the passages the dense channel searches (the windows, the sentence
    of a one-sentence profile, and every passage written before sentences were flagged) and
    replaces the index over every passage by one over those, also when a bulk load that died
    had set the old one aside (it is not built again later)."""
    await asyncio.to_thread(db.migrate, empty_url, "0008_member_terms")
    await execute(empty_url, NEWER_SEARCHED_COLUMN)
    await load_records(empty_url, embedder, [*factories.network(6), one_sentence_member(6)])
    await execute(
        empty_url,
        "ALTER TABLE passage DROP COLUMN searched; "
        "UPDATE passage SET sentence = NULL WHERE member_id = "
        "(SELECT id FROM member WHERE external_id = 'member-000005')",
    )
    assert await hnsw_indexes(empty_url) == {"passage_embedding_use_hnsw_idx"}
    pool = await db.create_pool(empty_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            await bulk.defer_indexes(conn)  # an import died with the index set aside
    finally:
        await pool.close()

    await db.migrate_async(empty_url)

    assert await hnsw_indexes(empty_url) == {"passage_searched_use_hnsw_idx"}
    pool = await db.create_pool(empty_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            assert await bulk.restore_indexes(conn) == []
    finally:
        await pool.close()
    flags = await searched_flags(empty_url)
    assert flags["member-000006"] == [(True, True)]  # one sentence, no window
    assert all(searched for _, searched in flags["member-000005"])  # written before 0007
    for member in [f"member-00000{number}" for number in range(5)]:
        assert any(sentence for sentence, _ in flags[member])
        assert any(not sentence for sentence, _ in flags[member])
        assert all(searched == (not sentence) for sentence, searched in flags[member])


async def test_the_dense_channel_searches_the_windows_and_one_sentence_profiles(
    own_database_url: str, embedder: Embedder
) -> None:
    """The nearest passages, by the index or by exact search, are the searched ones: windows,
    which hold every sentence of their profile, and the sentence of a profile that has no
    window, so that its member is found too."""
    await load_records(
        own_database_url, embedder, [*factories.network(12), one_sentence_member(12)]
    )
    vector = embedder.embed_queries(["Wer hat einen Bürgerhaushalt mit Losverfahren?"])[0]
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            windows = {
                r["id"] for r in await conn.fetch("SELECT id FROM passage WHERE NOT sentence")
            }
            alone = await conn.fetchval(
                "SELECT p.id FROM passage p JOIN member m ON m.id = p.member_id "
                "WHERE m.external_id = 'member-000012'"
            )
            found = []
            for exact in (False, True):
                async with conn.transaction():
                    # Planned anew under each setting (the connections keep one plan).
                    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                    await conn.execute(f"SET LOCAL enable_indexscan = {'off' if exact else 'on'}")
                    await conn.execute("SET LOCAL enable_sort = off")  # the index, if it can
                    nearest = await index.nearest_passages(
                        conn, model=embedder.name, query_vector=vector, limit=1000
                    )
                    found.append([passage_id for passage_id, _ in nearest])
    finally:
        await pool.close()
    assert len(windows) > 12
    assert set(found[0]) == set(found[1]) == windows | {alone}
    assert found[1][0] == alone  # the nearest: the one sentence that says just this


async def test_a_bulk_load_leaves_fresh_statistics(
    own_database_url: str, embedder: Embedder
) -> None:
    """The network's size, read from the planner's statistics, counts a bulk load's members at
    once (not only after autovacuum's next analysis)."""
    records = importer.validate_records(factories.network(14))
    pool = await db.create_pool(own_database_url, max_size=2)
    try:
        await importer.import_members(pool, embedder, records[:2])
        await execute(own_database_url, "ANALYZE member")
        # More members than there are: a bulk load.
        await importer.import_members(pool, embedder, records[2:], bulk_minimum=0)
    finally:
        await pool.close()
    conn = await asyncpg.connect(own_database_url)
    try:
        asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
        context = await retrieval.asker_context(
            conn,
            asker,
            text="",
            tag_keys=(),
            retrieval=questions_service.RETRIEVAL,
            breadth=questions_service.SEARCH_BREADTH,
        )
        members = await conn.fetchval("SELECT count(*) FROM member")
    finally:
        await conn.close()
    assert context is not None
    assert members == 14
    assert context.network_size == members


async def test_new_passages_stay_in_their_rows(own_database_url: str, embedder: Embedder) -> None:
    await load(own_database_url, embedder, 12)
    assert await passages(own_database_url)
    assert await toast_size(own_database_url) == 0


async def test_candidates_carry_their_stored_centroids(
    own_database_url: str, embedder: Embedder
) -> None:
    """Centroids travel packed (pgvector's binary format) and decode to the stored vector."""
    await load(own_database_url, embedder, 6)
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            stored = {
                str(r["member_id"]): np.asarray(r["centroid"].to_numpy())
                for r in await conn.fetch("SELECT member_id, centroid FROM member_centroid")
            }
            asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
            candidates = await retrieval.all_candidates(
                conn,
                asker_id=asker,
                model=embedder.name,
                query_vector=embedder.embed_queries(["Bürgerhaushalt"])[0],
            )
    finally:
        await pool.close()
    assert candidates
    for candidate in candidates:
        decoded = np.asarray(candidate.centroid, dtype=np.float32)
        assert decoded.dtype == np.float32
        np.testing.assert_array_equal(decoded, stored[candidate.member_id])


async def test_the_search_breadth_follows_the_network_size(
    own_database_url: str, embedder: Embedder
) -> None:
    """Below ``large_from`` members a question's transaction searches the index with the small
    breadth; from there, and outside the question's transaction, with the connection's own."""
    await load(own_database_url, embedder, 6)
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
            breadths = []
            for large_from in (7, 6):
                async with conn.transaction():
                    await retrieval.asker_context(
                        conn,
                        asker,
                        text="",
                        tag_keys=(),
                        retrieval=questions_service.RETRIEVAL,
                        breadth=retrieval.SearchBreadth(small=120, large_from=large_from),
                    )
                    breadths.append(await conn.fetchval("SHOW hnsw.ef_search"))
            breadths.append(await conn.fetchval("SHOW hnsw.ef_search"))
    finally:
        await pool.close()
    default = str(db.HNSW_EF_SEARCH)
    assert breadths == ["120", default, default]


async def test_windows_travel_without_their_text(own_database_url: str, embedder: Embedder) -> None:
    """Passages are stored with whether they are a sentence; a question receives the texts of
    the sentences only, and the passage shown is a sentence. Passages written before the flag
    existed (NULL) keep their texts and rank the same."""
    await load(own_database_url, embedder, 12)
    pool = await db.create_pool(own_database_url, max_size=1)
    query = Query(
        title="Bürgerhaushalt einführen",
        body="Wie haben Sie den Bürgerhaushalt mit Online-Beteiligung aufgebaut?",
        tags=("Bürgerhaushalt",),
        vector=embedder.embed_queries(["Bürgerhaushalt einführen"])[0],
    )

    async def ranked(conn: Connection) -> tuple[list[Candidate], list[Shown]]:
        found = await retrieval.all_candidates(
            conn, asker_id=asker, model=embedder.name, query_vector=query.vector
        )
        return found, [
            (s.member.id, s.score, s.reasons.passage) for s in rank(query, found, limit=5)
        ]

    try:
        async with pool.acquire() as conn:
            asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
            flagged, suggested = await ranked(conn)
            await conn.execute("UPDATE passage SET sentence = NULL")
            unflagged, suggested_before = await ranked(conn)
    finally:
        await pool.close()
    for candidate in flagged:
        sentences = [p.text for p in candidate.passages if p.sentence]
        windows = [p.text for p in candidate.passages if p.sentence is False]
        assert sentences and all(sentences)
        assert windows == [""] * len(windows)
    assert any(p.sentence is False for c in flagged for p in c.passages)
    assert all(p.sentence is None and p.text for c in unflagged for p in c.passages)
    assert suggested == suggested_before
    for _, _, passage in suggested:
        assert any(passage == p.text and p.sentence for c in flagged for p in c.passages)


async def test_refreshed_suggestions_keep_the_first_showing(
    own_database_url: str, embedder: Embedder
) -> None:
    """Suggestions shown later are recorded as 'refreshed', ranked by position; a member
    already recorded for the question keeps their first showing."""
    await load(own_database_url, embedder, 8)
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            asker = await conn.fetchval("SELECT id FROM member ORDER BY name LIMIT 1")
            found = await questions_service.suggest(
                conn, embedder, asker_id=asker, title="Bürgerhaushalt", body="Wie?", tags=[],
                limit=3,
            )  # fmt: skip
            stored = await questions.insert_question(
                conn, asker_id=asker, title="Bürgerhaushalt", body="Wie?", tags=[],
                suggestions=found[:1], model=embedder.name,
            )  # fmt: skip
            await questions.store_suggestions(
                conn, stored.id, found, model=embedder.name, source="refreshed"
            )
            rows = await conn.fetch(
                "SELECT member_id::text, rank, source, score FROM suggestion "
                "WHERE question_id = $1 ORDER BY rank",
                stored.id,
            )
    finally:
        await pool.close()
    assert len(found) == 3
    assert [(r["member_id"], r["rank"], r["source"]) for r in rows] == [
        (found[0].member.id, 1, "asked"),
        (found[1].member.id, 2, "refreshed"),
        (found[2].member.id, 3, "refreshed"),
    ]
    assert [r["score"] for r in rows] == pytest.approx([s.score for s in found], rel=1e-6)
