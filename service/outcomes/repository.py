"""All SQL of outcomes: what came out of a consultation, its embeddings while it is shared, its
named helpers, the shared outcomes nearest to a question, and the reminders to record one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import numpy as np

from models.outcomes import Helper, Outcome, RelatedQuestion
from service.db import Connection
from service.embedding import DEFAULT_MODEL, Vector
from service.members.repository import municipality_from_record


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    question_id: UUID
    asker_id: UUID
    text: str
    shared: bool
    updated_at: datetime


async def get(conn: Connection, question_id: UUID) -> StoredOutcome | None:
    record = await conn.fetchrow(
        """
        SELECT o.question_id, q.asker_id, o.text, o.shared, o.updated_at
        FROM outcome o JOIN question q ON q.id = o.question_id
        WHERE o.question_id = $1
        """,
        question_id,
    )
    return None if record is None else StoredOutcome(**dict(record))


async def write(conn: Connection, question_id: UUID, *, text: str, shared: bool) -> None:
    await conn.execute(
        """
        INSERT INTO outcome (question_id, text, shared, words)
        SELECT $1, $2, $3, to_tsvector('german', q.title || ' ' || q.body || ' ' || $2)
        FROM question q WHERE q.id = $1
        ON CONFLICT (question_id) DO UPDATE
        SET text = excluded.text, shared = excluded.shared, words = excluded.words,
            updated_at = now()
        """,
        question_id,
        text,
        shared,
    )


async def set_passages(
    conn: Connection, question_id: UUID, *, model: str, vectors: Vector | None
) -> None:
    """The shared outcome's embeddings (None: it is not shared, and has none)."""
    await conn.execute("DELETE FROM outcome_passage WHERE question_id = $1", question_id)
    if vectors is None:
        return
    await conn.executemany(
        "INSERT INTO outcome_passage (question_id, position, model, embedding) "
        "VALUES ($1, $2, $3, $4)",
        [
            (question_id, position, model, np.asarray(vector, dtype=np.float32))
            for position, vector in enumerate(vectors)
        ],
    )


def passage_texts(title: str, body: str, text: str) -> tuple[str, str]:
    """What a shared outcome's two passages embed: the question with its outcome, and the
    outcome alone."""
    return f"{title}\n{body}\n{text}", text


async def shared_texts(conn: Connection) -> list[tuple[UUID, str, str]]:
    """Every shared outcome with its two passages' texts (``passage_texts``)."""
    records = await conn.fetch(
        "SELECT o.question_id, q.title, q.body, o.text FROM outcome o "
        "JOIN question q ON q.id = o.question_id WHERE o.shared ORDER BY o.question_id"
    )
    return [(r["question_id"], *passage_texts(r["title"], r["body"], r["text"])) for r in records]


async def accepted_peers(conn: Connection, question_id: UUID) -> dict[UUID, UUID]:
    """The colleagues of the question's accepted requests: member id → request id."""
    records = await conn.fetch(
        "SELECT peer_id, id FROM consultation_request "
        "WHERE question_id = $1 AND status = 'accepted'",
        question_id,
    )
    return {r["peer_id"]: r["id"] for r in records}


async def helpers(conn: Connection, question_ids: Sequence[UUID]) -> dict[UUID, list[Helper]]:
    """The named helpers of each question: its accepted requests' colleagues who chose so."""
    records = await conn.fetch(
        """
        SELECT r.question_id, m.id, m.name,
               mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind
        FROM consultation_request r
        JOIN member m ON m.id = r.peer_id
        JOIN municipality mu ON mu.id = m.municipality_id
        WHERE r.question_id = ANY($1::uuid[]) AND r.named AND r.status = 'accepted'
        ORDER BY r.responded_at, m.id
        """,
        list(question_ids),
    )
    found: dict[UUID, list[Helper]] = {}
    for r in records:
        found.setdefault(r["question_id"], []).append(
            Helper(id=str(r["id"]), name=r["name"], municipality=municipality_from_record(r))
        )
    return found


async def set_named(conn: Connection, request_id: UUID, named: bool) -> None:
    await conn.execute(
        "UPDATE consultation_request SET named = $2 WHERE id = $1", request_id, named
    )


@dataclass(frozen=True, slots=True)
class Found:
    """A shared outcome as a search finds it: its question, what came out, and the cosines of
    its embeddings to the question searched for (empty for the newest)."""

    question: RelatedQuestion
    tags: tuple[str, ...]
    text: str
    updated_at: datetime
    similarities: tuple[float, ...]
    # It holds every word searched for.
    has_words: bool = False


_SHARED = """
SELECT o.question_id, q.title, q.body, q.tags, q.created_at, o.text, o.updated_at,
       mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
       {similarities} AS similarities, {has_words} AS has_words
FROM outcome o
JOIN question q ON q.id = o.question_id
JOIN member a ON a.id = q.asker_id
JOIN municipality mu ON mu.id = a.municipality_id
"""

# The shared outcomes of the questions $3 (found nearest to the vector $1, model $2: the cosines
# of their passages to it), and (a search) the newest $4 holding every word of $5; looked up by
# key, so their number does not matter.
FOUND = (
    _SHARED.format(
        similarities="""ARRAY(SELECT 1 - (p.embedding <=> $1) FROM outcome_passage p
                              WHERE p.question_id = o.question_id AND p.model = $2
                              ORDER BY p.position)""",
        has_words="$5::text IS NOT NULL AND o.words @@ plainto_tsquery('german', $5::text)",
    )
    + """
WHERE o.shared AND o.question_id = ANY(
    $3::uuid[] || ARRAY(
        SELECT w.question_id FROM outcome w
        WHERE $5::text IS NOT NULL AND w.shared
          AND w.words @@ plainto_tsquery('german', $5::text)
        ORDER BY w.updated_at DESC
        LIMIT $4
    )
)
"""
)
NEWEST = (
    _SHARED.format(similarities="'{}'::float8[]", has_words="false")
    + "WHERE o.shared ORDER BY o.updated_at DESC, o.question_id LIMIT $1"
)


def _found(record: asyncpg.Record) -> Found:
    return Found(
        question=RelatedQuestion(
            id=str(record["question_id"]),
            title=record["title"],
            body=record["body"],
            created_at=record["created_at"],
            municipality=municipality_from_record(record),
        ),
        tags=tuple(record["tags"]),
        text=record["text"],
        updated_at=record["updated_at"],
        similarities=tuple(float(value) for value in record["similarities"]),
        has_words=bool(record["has_words"]),
    )


async def found(
    conn: Connection,
    question_ids: Sequence[UUID],
    vector: Vector,
    *,
    model: str,
    words: str | None = None,
    limit: int = 20,
) -> list[Found]:
    """The shared outcomes of ``question_ids`` (``nearest_outcomes``) with the cosines
    of their passages to ``vector``, and the newest ``limit`` holding every one of ``words``."""
    records = await conn.fetch(
        FOUND, np.asarray(vector, dtype=np.float32), model, list(question_ids), limit, words
    )
    return [_found(record) for record in records]


async def newest(conn: Connection, *, limit: int) -> list[Found]:
    return [_found(record) for record in await conn.fetch(NEWEST, limit)]


def outcome_schema(stored: StoredOutcome, named: Sequence[Helper]) -> Outcome:
    return Outcome(
        question_id=str(stored.question_id),
        text=stored.text,
        shared=stored.shared,
        updated_at=stored.updated_at,
        helpers=list(named),
    )


async def of_member(conn: Connection, member_id: UUID) -> list[dict[str, object]]:
    """For the member's export: the outcomes they wrote, and those they are named on."""
    records = await conn.fetch(
        """
        SELECT o.question_id, q.title, o.text, o.shared, o.updated_at,
               q.asker_id = $1 AS written
        FROM outcome o JOIN question q ON q.id = o.question_id
        WHERE q.asker_id = $1 OR EXISTS (
            SELECT FROM consultation_request r
            WHERE r.question_id = o.question_id AND r.peer_id = $1
              AND r.named AND r.status = 'accepted')
        ORDER BY o.updated_at
        """,
        member_id,
    )
    return [
        {
            "question_id": str(r["question_id"]),
            "question_title": r["title"],
            "text": r["text"],
            "shared": r["shared"],
            "updated_at": r["updated_at"].isoformat(),
            "role": "written" if r["written"] else "named",
        }
        for r in records
    ]


# Accepted requests of 7 to 14 days ago whose asker was not reminded yet and has not both given
# feedback and recorded the outcome: claimed (reminded_at set) as they are read, so that each
# goes out once however many workers run.
DUE_REMINDERS = """
UPDATE consultation_request r SET reminded_at = now()
FROM question q
WHERE q.id = r.question_id AND r.status = 'accepted' AND r.reminded_at IS NULL
  AND r.responded_at < now() - $1::interval AND r.responded_at >= now() - $2::interval
  AND NOT (EXISTS (SELECT FROM feedback f WHERE f.request_id = r.id)
           AND EXISTS (SELECT FROM outcome o WHERE o.question_id = r.question_id))
RETURNING r.id, r.question_id, q.title, r.asker_id, r.peer_id,
          EXISTS (SELECT FROM feedback f WHERE f.request_id = r.id) AS has_feedback,
          EXISTS (SELECT FROM outcome o WHERE o.question_id = r.question_id) AS has_outcome
"""


# The questions of the $3 shared outcome passages nearest to the vector $2 (model $1), nearest
# first: the default model's through their partial HNSW index (migration `outcomes`), whose
# predicate and expression the statement repeats (as ``retrieval.NEAREST_INDEXED``).
NEAREST_OUTCOMES_INDEXED = """
SELECT op.question_id FROM outcome_passage op
WHERE op.model = $1 AND op.model = 'use-multilingual-v3'
ORDER BY op.embedding::vector(512) <=> $2
LIMIT $3
"""
NEAREST_OUTCOMES_EXACT = """
SELECT op.question_id FROM outcome_passage op
WHERE op.model = $1
ORDER BY op.embedding <=> $2
LIMIT $3
"""

# The HNSW search breadth for the nearest shared outcomes: a few dozen rows are asked for, so a
# narrow search finds them (the passages' breadth is set for 50 of millions of rows).
OUTCOME_SEARCH_BREADTH = 40


async def nearest_outcomes(
    conn: Connection, *, model: str, query_vector: Vector, passages: int
) -> list[UUID]:
    """The questions whose shared outcomes have one of the ``passages`` passages nearest to the
    question, nearest first: searched once a question, for the candidates (their named
    helpers) and for the related outcomes. In a transaction, searched with
    ``OUTCOME_SEARCH_BREADTH`` (at least ``passages``), the transaction's breadth restored
    after."""
    breadth = str(max(OUTCOME_SEARCH_BREADTH, passages))
    previous = await conn.fetchval("SELECT current_setting('hnsw.ef_search')")
    await conn.execute("SELECT set_config('hnsw.ef_search', $1, true)", breadth)
    try:
        records = await conn.fetch(
            NEAREST_OUTCOMES_INDEXED if model == DEFAULT_MODEL else NEAREST_OUTCOMES_EXACT,
            model,
            np.asarray(query_vector, dtype=np.float32),
            passages,
        )
    finally:
        await conn.execute("SELECT set_config('hnsw.ef_search', $1, true)", previous)
    return list(dict.fromkeys(record["question_id"] for record in records))
