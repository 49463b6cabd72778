"""Upgrading an installation with data: what each migration does to what is there (the schema
alone is built by every test run). A test loads with today's import into an older schema
(adding the newer columns and tables the import writes, and removing them again), then migrates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from service import db
from service.embedding import Embedder
from service.members import bulk
from tests.helpers import factories
from tests.helpers.database import own_database
from tests.helpers.stored import execute, load, load_records, passages, toast_size

# The `member_terms` migration's table and the `window_index` migration's column, for loading with
# today's import into an older schema.
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


async def test_everyday_use_writes_states_out_and_merges_a_place_then_twice(
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


@pytest_asyncio.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    """A database without any schema, for migrating step by step."""
    async with own_database(server_url) as url:
        yield url


async def test_upgrade_moves_passage_texts_back_into_their_rows(
    empty_url: str, embedder: Embedder
) -> None:
    """Before the `rows_inline` migration a passage row (a 512-d vector kept inline, and its text)
    was just over the TOAST threshold, so its text lived out of line; the upgrade rewrites the
    rows whole and keeps every passage."""
    await asyncio.to_thread(db.migrate, empty_url, "0005_vectors_inline")
    # Today's import writes the columns of the migrations `passage_sentences` and `window_index` and
    # the table of `member_terms`; they exist only while loading, so the upgrade starts from the
    # 0005 schema.
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


async def test_upgrade_finds_the_words_of_every_expertise(
    empty_url: str, embedder: Embedder
) -> None:
    """The `member_terms` migration writes the terms of the members who are there, as a new
    profile gets them: the stemmed words of the expertise without stop words."""
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


async def test_upgrade_searches_the_windows_and_forgets_a_set_aside_index(
    empty_url: str, embedder: Embedder
) -> None:
    """The `window_index` migration flags the passages the dense channel searches (the windows,
    the sentence of a one-sentence profile, and every passage written before sentences were
    flagged) and replaces the index over every passage by one over those, also when a bulk load
    that died had set the old one aside (it is not built again later)."""
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
    # Written before `passage_sentences` flagged sentences: every passage stays searched.
    assert all(searched for _, searched in flags["member-000005"])
    for member in [f"member-00000{number}" for number in range(5)]:
        assert any(sentence for sentence, _ in flags[member])
        assert any(not sentence for sentence, _ in flags[member])
        assert all(searched == (not sentence) for sentence, searched in flags[member])
