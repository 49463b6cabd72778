"""How a question finds its candidates (service/questions/retrieval.py) and how passages are
stored for it: whole rows, centroids, the windows searched, the search breadth by network size."""

from __future__ import annotations

import asyncpg
import numpy as np
import pytest

from lab.bench import index
from service import db
from service.db import Connection
from service.embedding import Embedder
from service.matching.rank import rank
from service.matching.types import Candidate, Query
from service.members import importer
from service.questions import repository as questions
from service.questions import retrieval
from service.questions import service as questions_service
from tests.helpers import factories
from tests.helpers.stored import execute, load, load_records, passages, toast_size

# A suggestion as a person sees it: who, how good, which passage.
Shown = tuple[str, float, str | None]


def one_sentence_member(number: int) -> dict[str, object]:
    """A member whose whole expertise is one sentence: no windows."""
    record = factories.member_record(number)
    record["expertise"] = (
        "Ich habe in unserer Gemeinde einen Bürgerhaushalt mit Losverfahren eingeführt."
    )
    return record


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
            ranking = await questions_service.suggest(
                conn, embedder, asker_id=asker, title="Bürgerhaushalt", body="Wie?", tags=[],
                limit=3,
            )  # fmt: skip
            found = ranking.suggestions
            stored = await questions.insert_question(
                conn, asker_id=asker, title="Bürgerhaushalt", body="Wie?", tags=[],
                suggestions=found[:1], coverage=ranking.coverage, model=embedder.name,
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


async def test_the_typical_dense_score_is_the_rankers_median(
    own_database_url: str, embedder: Embedder
) -> None:
    """A large network's typical dense score (``fit``) comes from a sample read in PostgreSQL;
    with every member in the sample it is the median of the dense scores the ranker computes."""
    await load(own_database_url, embedder, 15)
    vector = embedder.embed_queries(["Wie führen wir einen Bürgerhaushalt ein?"])[0]
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            typical = await retrieval.typical_dense(
                conn, model=embedder.name, query_vector=vector, top=2, sample=1000
            )
            sampled = await retrieval.typical_dense(
                conn, model=embedder.name, query_vector=vector, top=2, sample=5
            )
            rows = await conn.fetch(
                "SELECT member_id, embedding::real[] AS embedding FROM passage WHERE model = $1",
                embedder.name,
            )
    finally:
        await pool.close()
    by_member: dict[object, list[float]] = {}
    for row in rows:
        by_member.setdefault(row["member_id"], []).append(
            float(np.dot(np.asarray(row["embedding"], dtype=np.float64), vector))
        )
    dense = [float(np.mean(sorted(found, reverse=True)[:2])) for found in by_member.values()]
    assert typical == pytest.approx(float(np.median(dense)), abs=1e-4)
    assert min(dense) <= (sampled or 0.0) <= max(dense)
