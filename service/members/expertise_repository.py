"""All SQL about what a member knows: their tags, the passages of their expertise with their
vectors and centroid, the words the lexical channel searches, and the network's vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict
from uuid import UUID

import numpy as np

from models.members import TagCount
from service.db import Connection
from service.embedding import Vector
from service.matching.passages import searched_flags, sentence_flags


async def all_member_texts(conn: Connection) -> list[tuple[UUID, str]]:
    records = await conn.fetch("SELECT id, expertise FROM member ORDER BY created_at, id")
    return [(record["id"], record["expertise"]) for record in records]


async def replace_tags(conn: Connection, member_id: UUID, tags: Sequence[tuple[str, str]]) -> None:
    """Replace a member's tags with (key, display) pairs."""
    await replace_tags_of_many(conn, [(member_id, tags)])


async def replace_tags_of_many(
    conn: Connection, members: Sequence[tuple[UUID, Sequence[tuple[str, str]]]]
) -> None:
    """``replace_tags`` for several members in two statements (imports write batches). Every
    tag is kept as the member wrote it, in their order; the key serves matching only."""
    await conn.execute(
        "DELETE FROM member_tag WHERE member_id = ANY($1::uuid[])",
        [member_id for member_id, _ in members],
    )
    rows = [
        (member_id, key, display, position)
        for member_id, tags in members
        for position, (key, display) in enumerate(tags)
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO member_tag (member_id, tag_key, tag, position) VALUES ($1, $2, $3, $4)",
            rows,
        )


async def replace_passages(
    conn: Connection,
    member_id: UUID,
    *,
    model: str,
    texts: Sequence[str],
    vectors: Vector,
) -> None:
    """A member's passages for one model, replacing all earlier ones (of every model), and the
    centroid of their vectors."""
    await replace_passages_of_many(conn, [(member_id, texts, vectors)], model=model)


_PASSAGE_COLUMNS = ("member_id", "position", "text", "sentence", "searched", "model", "embedding")


async def replace_passages_of_many(
    conn: Connection, members: Sequence[tuple[UUID, Sequence[str], Vector]], *, model: str
) -> None:
    """``replace_passages`` for several members (member id, texts, vectors) in a few statements
    (imports write batches). Each passage is stored with whether it is a sentence and whether the
    dense channel searches it (``searched``). The words of the sentences (the expertise) are stored
    as the member's terms, for the lexical candidate channel (the `member_terms` migration). Vectors
    go in by binary COPY, which costs the server a fifth less than a pipelined INSERT a row
    (measured on an import's writes alone: docs/performance.md, "The bulk path")."""
    member_ids = [member_id for member_id, _, _ in members]
    await conn.execute("DELETE FROM passage WHERE member_id = ANY($1::uuid[])", member_ids)
    await conn.execute("DELETE FROM member_centroid WHERE member_id = ANY($1::uuid[])", member_ids)
    await conn.execute("DELETE FROM member_term WHERE member_id = ANY($1::uuid[])", member_ids)
    flags = [sentence_flags(texts) for _, texts, _ in members]
    await conn.execute(
        """
        INSERT INTO member_term (term, member_id)
        SELECT term, expertise.member_id
        FROM unnest($1::uuid[], $2::text[]) AS expertise(member_id, text),
             unnest(tsvector_to_array(to_tsvector('german', expertise.text))) AS term
        """,
        member_ids,
        [
            " ".join(text for text, sentence in zip(texts, sentences, strict=True) if sentence)
            for (_, texts, _), sentences in zip(members, flags, strict=True)
        ],
    )
    centroids = [
        (member_id, model, np.asarray(vectors, dtype=np.float32).mean(axis=0))
        for member_id, texts, vectors in members
        if len(texts)
    ]
    if centroids:
        await conn.copy_records_to_table(
            "member_centroid", records=centroids, columns=["member_id", "model", "centroid"]
        )
    rows = [
        (member_id, position, text, sentence, searched, model, np.asarray(vector, np.float32))
        for (member_id, texts, vectors), sentences in zip(members, flags, strict=True)
        for position, (text, sentence, searched, vector) in enumerate(
            zip(texts, sentences, searched_flags(sentences), vectors, strict=True)
        )
    ]
    if rows:
        await conn.copy_records_to_table("passage", records=rows, columns=_PASSAGE_COLUMNS)


async def tag_counts(conn: Connection) -> list[TagCount]:
    """The vocabulary: per normalized tag its most used spelling and how many members use it
    (a member with two spellings of one key counts once)."""
    records = await conn.fetch(
        """
        WITH spelled AS (
            SELECT tag_key, tag, count(*) AS n FROM member_tag WHERE tag_key <> ''
            GROUP BY tag_key, tag
        ), holders AS (
            SELECT tag_key, count(DISTINCT member_id)::int AS members FROM member_tag
            WHERE tag_key <> '' GROUP BY tag_key
        )
        SELECT (array_agg(s.tag ORDER BY s.n DESC, s.tag))[1] AS tag, h.members AS count
        FROM spelled s JOIN holders h USING (tag_key)
        GROUP BY s.tag_key, h.members
        ORDER BY count DESC, tag
        """
    )
    return [TagCount(tag=record["tag"], count=record["count"]) for record in records]


class StoredPassage(TypedDict):
    """A passage as the member's export shows it (the vector stays out)."""

    position: int
    text: str
    model: str


async def passages_of(conn: Connection, member_id: UUID) -> list[StoredPassage]:
    records = await conn.fetch(
        "SELECT position, text, model FROM passage WHERE member_id = $1 ORDER BY position",
        member_id,
    )
    return [
        StoredPassage(position=record["position"], text=record["text"], model=record["model"])
        for record in records
    ]


async def frequent_words(conn: Connection, words: Sequence[str], *, share: float) -> list[str]:
    """Of ``words``, those that more than ``share`` of the members' profiles use (compared as
    PostgreSQL's German full-text lexemes, as ``member_term`` holds them), and those that its
    German dictionary treats as stop words. Each word's count stops at the threshold."""
    records = await conn.fetch(
        """
        WITH network AS (SELECT ceil($2::float8 * count(*))::int AS threshold FROM member),
             word AS (
                 SELECT w, tsvector_to_array(to_tsvector('german', w)) AS terms
                 FROM unnest($1::text[]) AS w
             )
        SELECT w
        FROM word, network
        WHERE cardinality(word.terms) = 0
           OR (SELECT count(*) FROM (
                   SELECT DISTINCT t.member_id FROM member_term t
                   WHERE t.term = ANY(word.terms)
                   LIMIT network.threshold + 1
               ) AS holder) > network.threshold
        """,
        list(words),
        share,
    )
    return [record["w"] for record in records]


async def terms_of(conn: Connection, member_id: UUID) -> list[str]:
    """The words of the member's expertise as the lexical channel searches them."""
    records = await conn.fetch(
        "SELECT term FROM member_term WHERE member_id = $1 ORDER BY term", member_id
    )
    return [record["term"] for record in records]


async def members_without_passages(conn: Connection, model: str) -> list[UUID]:
    """Members whose passages were made by another model (or are missing): to reindex."""
    records = await conn.fetch(
        """
        SELECT m.id FROM member m
        WHERE NOT EXISTS (SELECT 1 FROM passage p WHERE p.member_id = m.id AND p.model = $1)
        ORDER BY m.created_at
        """,
        model,
    )
    return [record["id"] for record in records]
