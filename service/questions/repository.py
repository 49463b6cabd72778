"""All SQL about questions, candidate retrieval and stored suggestions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import numpy as np

from models.members import Municipality
from models.questions import Question, Reasons, SuggestedMember, Suggestion
from service.db import Connection
from service.matching.types import Candidate, PackedVector, Passage, Vector


def _retrievable(asker: str) -> str:
    """The hard rules that need no counting, for the asker in parameter ``asker`` ("$1"):
    candidate retrieval applies these; capacity is checked with them in ``_ELIGIBLE``."""
    return f"""
    m.id <> {asker}
    AND m.municipality_id <> (SELECT municipality_id FROM member WHERE id = {asker})
    AND m.accepting_requests
"""


# Members must be eligible for the asker ($1): the hard rules of matching, in one place.
_ELIGIBLE = (
    _retrievable("$1")
    + """
    AND m.max_open_requests > coalesce(
        (SELECT o.open_requests FROM member_open_requests o WHERE o.member_id = m.id), 0)
"""
)

# Feedback raises a member's prior only with evidence: a Bayesian average of the "helpful"
# ratings (1-5) shrunk towards the neutral 3 by this many pseudo-ratings, then mapped to [0, 1]
# (3 or worse → 0, 5 → 1).
FEEDBACK_PSEUDO_RATINGS = 3.0


def feedback_prior(ratings: int, helpful_sum: int) -> float:
    """A member's prior from their accepted consultations' ratings, in [0, 1]."""
    if ratings <= 0:
        return 0.0
    shrunk = (helpful_sum + 3.0 * FEEDBACK_PSEUDO_RATINGS) / (ratings + FEEDBACK_PSEUDO_RATINGS)
    return min(1.0, max(0.0, (shrunk - 3.0) / 2.0))


def as_array(value: Any) -> Vector:
    """pgvector's codec returns a ``Vector`` for an untyped column, an ndarray for a typed one."""
    to_numpy = getattr(value, "to_numpy", None)
    return np.asarray(to_numpy() if to_numpy else value, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    id: UUID
    asker_id: UUID
    title: str
    body: str
    tags: list[str]
    created_at: Any


async def nearest_passages(
    conn: Connection, *, model: str, query_vector: Vector, limit: int
) -> list[tuple[int, float]]:
    """(id, cosine distance) of the passages nearest to the query, by the same ordering the
    service retrieves candidates with (for measuring the vector index against exact search)."""
    records = await conn.fetch(
        f"SELECT p.id, p.embedding <=> $2 AS distance FROM passage p "
        f"WHERE {_nearest_order(model)} LIMIT $3",
        model,
        np.asarray(query_vector, dtype=np.float32),
        limit,
    )
    return [(record["id"], float(record["distance"])) for record in records]


# Models whose passage vectors have an HNSW index (migration 0003), with their dimension. The
# retrieval query must order by the indexed expression for the index to serve it.
INDEXED_MODELS = {"use-multilingual-v3": 512}


def _nearest_order(model: str) -> str:
    """The passage predicate and ordering for ``model`` ($1 is the model, $2 the query)."""
    dimension = INDEXED_MODELS.get(model)
    if dimension is None:
        return "p.model = $1 ORDER BY p.embedding <=> $2"
    # The literal lets the planner match the partial index; the name comes from the table above.
    return f"p.model = $1 AND p.model = '{model}' ORDER BY p.embedding::vector({dimension}) <=> $2"


async def estimated_members(conn: Connection) -> int:
    """The network's size, from the planner's statistics (free), counted only if never analyzed."""
    estimate = await conn.fetchval(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'member'::regclass"
    )
    if estimate is None or estimate < 0:
        count: int = await conn.fetchval("SELECT count(*) FROM member")
        return count
    return int(estimate)


async def eligible_member_ids(conn: Connection, asker_id: UUID) -> list[UUID]:
    """Everyone who may be suggested to the asker (for small networks: rank them all)."""
    records = await conn.fetch(f"SELECT m.id FROM member m WHERE {_ELIGIBLE}", asker_id)
    return [record["id"] for record in records]


async def candidate_ids(
    conn: Connection,
    *,
    asker_id: UUID,
    model: str,
    query_vector: Vector,
    tag_keys: Sequence[str],
    dense_passages: int,
    tag_members: int,
) -> list[UUID]:
    """Members near the question who may be asked: the owners of the nearest passages (pgvector
    HNSW), and the members sharing a question tag that few members have (a common tag names
    hundreds of members and says nothing about which of them; the ranker weighs tags among the
    candidates). Both channels are bounded, so a question costs about the same at 10,000
    members as at 100,000. Capacity is checked when they are loaded (``load_candidates``)."""
    records = await conn.fetch(
        f"""
        SELECT member_id FROM (
            SELECT p.member_id FROM passage p JOIN member m ON m.id = p.member_id
            WHERE {_retrievable("$5")} AND {_nearest_order(model)} LIMIT $3
        ) nearest
        UNION
        SELECT t.member_id FROM member_tag t JOIN member m ON m.id = t.member_id
        WHERE t.tag_key IN (
            SELECT tag_key FROM member_tag WHERE tag_key = ANY($4::text[])
            GROUP BY tag_key HAVING count(*) <= $6
        ) AND {_retrievable("$5")}
        """,
        model,
        np.asarray(query_vector, dtype=np.float32),
        dense_passages,
        list(tag_keys),
        asker_id,
        tag_members,
    )
    return [record["member_id"] for record in records]


async def load_candidates(
    conn: Connection,
    member_ids: Sequence[UUID],
    *,
    asker_id: UUID,
    model: str,
    query_vector: Vector,
) -> list[Candidate]:
    """The ranker's view of those of these members who may be suggested to the asker: profile,
    tags, their passages of ``model`` with each passage's cosine similarity to the question, and
    the profile's centroid (packed: decoded only for the few suggested), in two queries.
    Similarities are computed in PostgreSQL, so passage vectors never travel."""
    if not member_ids:
        return []
    records = await conn.fetch(
        f"""
        SELECT m.id, m.name, m.role, m.max_open_requests,
               mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
               coalesce((SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                         WHERE t.member_id = m.id), '{{}}') AS tags,
               coalesce(o.open_requests, 0) AS open_requests,
               coalesce(fb.ratings, 0) AS ratings,
               coalesce(fb.helpful_sum, 0) AS helpful_sum,
               vector_send(c.centroid) AS centroid
        FROM member m
        JOIN municipality mu ON mu.id = m.municipality_id
        LEFT JOIN member_open_requests o ON o.member_id = m.id
        LEFT JOIN LATERAL (
            SELECT count(*)::int AS ratings, sum(f.helpful)::int AS helpful_sum
            FROM feedback f JOIN consultation_request r ON r.id = f.request_id
            WHERE r.peer_id = m.id
        ) fb ON true
        LEFT JOIN member_centroid c ON c.member_id = m.id AND c.model = $3
        WHERE m.id = ANY($2::uuid[]) AND {_ELIGIBLE}
        """,
        asker_id,
        list(member_ids),
        model,
    )
    # One scan of the candidates' passages (a lateral subquery per member costs more). The
    # similarity is computed before the rows are sorted for aggregation, so the sort moves no
    # vectors.
    passages: dict[UUID, tuple[list[str], list[float]]] = {
        row["member_id"]: (row["texts"], row["similarities"])
        for row in await conn.fetch(
            """
            SELECT member_id, array_agg(text ORDER BY position) AS texts,
                   array_agg(similarity ORDER BY position) AS similarities
            FROM (
                SELECT member_id, position, text, 1 - (embedding <=> $3) AS similarity
                FROM passage WHERE member_id = ANY($1::uuid[]) AND model = $2
                OFFSET 0
            ) scored
            GROUP BY member_id
            """,
            [record["id"] for record in records],
            model,
            np.asarray(query_vector, dtype=np.float32),
        )
    }
    return [
        Candidate(
            member_id=str(record["id"]),
            name=record["name"],
            municipality_id=str(record["municipality_id"]),
            municipality=record["municipality_name"],
            state=record["state"],
            municipality_kind=record["kind"],
            role=record["role"],
            tags=tuple(record["tags"]),
            passages=tuple(
                Passage(text=text, similarity=similarity)
                for text, similarity in zip(*passages.get(record["id"], ([], [])), strict=True)
            ),
            open_requests=record["open_requests"],
            max_open_requests=record["max_open_requests"],
            feedback_prior=feedback_prior(record["ratings"], record["helpful_sum"]),
            centroid=None if record["centroid"] is None else PackedVector(record["centroid"]),
        )
        for record in records
    ]


async def asker_context(conn: Connection, asker_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT m.id, mu.id AS municipality_id, mu.state, mu.kind
        FROM member m JOIN municipality mu ON mu.id = m.municipality_id WHERE m.id = $1
        """,
        asker_id,
    )


async def insert_question(
    conn: Connection, *, asker_id: UUID, title: str, body: str, tags: Sequence[str]
) -> StoredQuestion:
    record = await conn.fetchrow(
        "INSERT INTO question (asker_id, title, body, tags) VALUES ($1, $2, $3, $4) "
        "RETURNING id, asker_id, title, body, tags, created_at",
        asker_id,
        title,
        body,
        list(tags),
    )
    assert record is not None
    return StoredQuestion(**{key: record[key] for key in record.keys()})  # noqa: SIM118


async def get_question(conn: Connection, question_id: UUID) -> StoredQuestion | None:
    record = await conn.fetchrow(
        "SELECT id, asker_id, title, body, tags, created_at FROM question WHERE id = $1",
        question_id,
    )
    return None if record is None else StoredQuestion(**dict(record))


async def store_suggestions(
    conn: Connection,
    question_id: UUID,
    suggestions: Sequence[Suggestion],
    *,
    model: str,
    source: str,
) -> None:
    """Record what was suggested (for feedback and analytics); the first showing is kept."""
    await conn.executemany(
        """
        INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model, source)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
        ON CONFLICT ON CONSTRAINT suggestion_pkey DO NOTHING
        """,
        [
            (
                question_id,
                UUID(suggestion.member.id),
                rank,
                suggestion.score,
                json.dumps(suggestion.reasons.model_dump(), ensure_ascii=False),
                model,
                source,
            )
            for rank, suggestion in enumerate(suggestions, 1)
        ],
    )


async def stored_suggestions(conn: Connection, question_id: UUID) -> list[Suggestion]:
    """The suggestions made when the question was asked, best first (erased members are gone)."""
    records = await conn.fetch(
        """
        SELECT s.score, s.reasons, m.id, m.name, m.role,
               mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
               coalesce((SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                         WHERE t.member_id = m.id), '{}') AS tags
        FROM suggestion s
        JOIN member m ON m.id = s.member_id
        JOIN municipality mu ON mu.id = m.municipality_id
        WHERE s.question_id = $1 AND s.source = 'asked'
        ORDER BY s.rank
        """,
        question_id,
    )
    return [
        Suggestion(
            member=SuggestedMember(
                id=str(record["id"]),
                name=record["name"],
                municipality=Municipality(
                    id=str(record["municipality_id"]),
                    name=record["municipality_name"],
                    state=record["state"],
                    kind=record["kind"],
                ),
                role=record["role"],
                tags=list(record["tags"]),
            ),
            score=min(1.0, max(0.0, float(record["score"]))),
            reasons=Reasons.model_validate(json.loads(record["reasons"])),
        )
        for record in records
    ]


async def questions_of(conn: Connection, asker_id: UUID) -> list[StoredQuestion]:
    records = await conn.fetch(
        "SELECT id, asker_id, title, body, tags, created_at FROM question "
        "WHERE asker_id = $1 ORDER BY created_at",
        asker_id,
    )
    return [StoredQuestion(**dict(record)) for record in records]


def question_schema(stored: StoredQuestion, suggestions: list[Suggestion]) -> Question:
    return Question(
        id=str(stored.id),
        asker_id=str(stored.asker_id),
        title=stored.title,
        body=stored.body,
        tags=list(stored.tags),
        created_at=stored.created_at,
        suggestions=suggestions,
    )


async def appearances_of(conn: Connection, member_id: UUID) -> list[dict[str, Any]]:
    """Where the member was suggested to others (ids, rank and time; not others' questions)."""
    records = await conn.fetch(
        "SELECT question_id, rank, score, source, created_at FROM suggestion "
        "WHERE member_id = $1 ORDER BY created_at",
        member_id,
    )
    return [
        {
            "question_id": str(record["question_id"]),
            "rank": record["rank"],
            "score": float(record["score"]),
            "source": record["source"],
            "created_at": record["created_at"].isoformat(),
        }
        for record in records
    ]


async def count_recent(conn: Connection, *, days: int) -> int:
    """Questions asked in the last ``days`` days, network-wide."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM question WHERE created_at > now() - make_interval(days => $1)", days
    )
    return count
