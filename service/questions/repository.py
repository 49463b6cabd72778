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
from service.embedding import Vector
from service.matching.types import Candidate, PackedVector, Passage


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
    """(id, cosine distance) of the searched passages nearest to the query, by the same
    ordering the service retrieves candidates with (for measuring the vector index against
    exact search)."""
    records = await conn.fetch(
        f"SELECT p.id, p.embedding <=> $2 AS distance FROM passage p "
        f"WHERE {_nearest_order(model)} LIMIT $3",
        model,
        np.asarray(query_vector, dtype=np.float32),
        limit,
    )
    return [(record["id"], float(record["distance"])) for record in records]


# Models whose passage vectors have an HNSW index (migrations 0003 and 0009), with their
# dimension. The retrieval query must order by the indexed expression, under the index's
# predicate, for the index to serve it.
INDEXED_MODELS = {"use-multilingual-v3": 512}

# The passages the dense channel searches, and the HNSW index holds (migration 0009): the windows
# of 2-3 sentences, and the sentence of a profile that has no window (members/repository.py,
# `searched`). A window holds every sentence of its profile; searched as well, the sentences only
# repeated what the windows find. Measured on 10,000 synthetic members (2026-12-02,
# docs/performance.md): an index of 55 % of the rows, built in 18.3 s instead of 32.5 s, recall@50
# 0.980 instead of 0.963, and the judged development set inside that network at nDCG@5 0.619
# instead of 0.622 (Recall@10 and MRR the same). The ranker still scores every passage of a
# candidate.
SEARCHED_PASSAGES = "p.searched"


def _nearest_order(model: str, *, model_param: str = "$1", query_param: str = "$2") -> str:
    """The passage predicate and ordering for ``model`` (given as ``model_param``) by distance
    to the query vector (``query_param``), over the searched passages."""
    dimension = INDEXED_MODELS.get(model)
    if dimension is None:
        return (
            f"p.model = {model_param} AND {SEARCHED_PASSAGES} "
            f"ORDER BY p.embedding <=> {query_param}"
        )
    # The literal lets the planner match the partial index; the name comes from the table above.
    return (
        f"p.model = {model_param} AND p.model = '{model}' AND {SEARCHED_PASSAGES} "
        f"ORDER BY p.embedding::vector({dimension}) <=> {query_param}"
    )


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Bounded candidate channels for a large network, each costing about the same at 10,000
    members as at 100,000:

    * dense: the owners of the ``dense_passages`` passages nearest to the question (pgvector
      HNSW);
    * tags: the members sharing a question tag that at most ``tag_members`` members have (a
      common tag names hundreds of members and says nothing about which of them; the ranker
      weighs tags among the candidates);
    * lexical: at most ``lexical_members`` members who share the most distinctive words of
      ``text`` (the question), a word being distinctive when at most ``term_members`` members
      use it, and the rarer the more it counts. A member who wrote about exactly the
      question's rare subject is then a candidate even when a hundred passages of others on
      the same broad topic are nearer in the vector space (migration 0008).

    The tag and the word channel need only the question's text: ``asker_context`` runs them
    while the question is embedded, and ``candidates`` adds the dense channel. Networks of at
    most ``bounded_above`` members are ranked in full instead.
    """

    tag_keys: Sequence[str]
    dense_passages: int
    tag_members: int
    text: str = ""
    term_members: int = 0
    lexical_members: int = 0
    # Networks of at most this many members are ranked in full instead.
    bounded_above: int = 0

    @property
    def lexical(self) -> bool:
        """Whether the lexical channel is used (it needs its bounds)."""
        return self.term_members > 0 and self.lexical_members > 0


# The candidates' rows in one statement: $1 the asker, $2 the model, $3 the question's vector;
# ``{pool}`` yields the member ids to consider (their parameters from $4). Every hard rule
# applies (``_ELIGIBLE``). Each passage's cosine similarity to the question is computed in
# PostgreSQL, so vectors never travel, and before the rows are sorted for aggregation, so the
# sort moves no vectors; windows of several sentences travel without their text (a passage
# written before migration 0007 has no flag and keeps it, for the ranker to tell); one scan of
# the candidates' passages (a lateral subquery per member costs more). The centroid travels
# packed (decoded only for the few suggested). The pool is matched as an array
# (``= ANY(ARRAY(...))``): joined as a relation, its size was overestimated and the planner
# scanned every member instead of looking up the few (12 ms at 10,000).
_CANDIDATES = """
WITH pool AS MATERIALIZED ({pool}),
scored AS (
    SELECT member_id, array_agg(text ORDER BY position) AS texts,
           array_agg(similarity ORDER BY position) AS similarities,
           array_agg(sentence ORDER BY position) AS sentences
    FROM (
        SELECT p.member_id, p.position, p.sentence,
               CASE WHEN p.sentence IS NOT FALSE THEN p.text END AS text,
               1 - (p.embedding <=> $3) AS similarity
        FROM passage p
        WHERE p.member_id = ANY(ARRAY(SELECT member_id FROM pool)) AND p.model = $2
        OFFSET 0
    ) passage_similarity
    GROUP BY member_id
)
SELECT m.id, m.name, m.role, m.max_open_requests,
       mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
       coalesce((SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                 WHERE t.member_id = m.id), '{{}}') AS tags,
       coalesce(o.open_requests, 0) AS open_requests,
       coalesce(fb.ratings, 0) AS ratings,
       coalesce(fb.helpful_sum, 0) AS helpful_sum,
       vector_send(c.centroid) AS centroid,
       coalesce(s.texts, '{{}}') AS texts,
       coalesce(s.similarities, '{{}}') AS similarities,
       coalesce(s.sentences, '{{}}') AS sentences
FROM member m
JOIN municipality mu ON mu.id = m.municipality_id
LEFT JOIN member_open_requests o ON o.member_id = m.id
LEFT JOIN LATERAL (
    SELECT count(*)::int AS ratings, sum(f.helpful)::int AS helpful_sum
    FROM feedback f JOIN consultation_request r ON r.id = f.request_id
    WHERE r.peer_id = m.id
) fb ON true
LEFT JOIN member_centroid c ON c.member_id = m.id AND c.model = $2
LEFT JOIN scored s ON s.member_id = m.id
WHERE m.id = ANY(ARRAY(SELECT member_id FROM pool)) AND {eligible}
"""

# Every member who may be asked at all (small networks are ranked in full).
_EVERYONE = f"SELECT m.id AS member_id FROM member m WHERE {_retrievable('$1')}"


# The lexical channel ranks this many times its bound of members before the hard rules remove
# the asker's colleagues and the paused: the rules then look up a few dozen members by key.
# Applied to every member sharing a word, they had PostgreSQL hash a full scan of ``member``
# (3.5 ms a question at 10,000 members, measured with EXPLAIN ANALYZE on 2026-12-02).
LEXICAL_SURPLUS = 4


def _holders(table: str, column: str, key: str, bound: int) -> str:
    """SQL for how many rows of ``table`` hold ``key`` in ``column``, counted only up to
    ``bound + 1``: enough to tell whether at most ``bound`` do, read off the column's B-tree
    (an index-only scan that stops there, however common the key)."""
    return (
        f"(SELECT count(*) FROM (SELECT FROM {table} holder WHERE holder.{column} = {key} "
        f"LIMIT {bound + 1}) bounded)"
    )


def _text_channels(retrieval: Retrieval, *, asker: str, tag_keys: str, text: str) -> str:
    """SQL for the members the text of a question brings in (the tag and the word channel of
    ``retrieval``), for the asker in parameter ``asker``, the question's tag keys in ``tag_keys``
    and its text in ``text``. The cheap hard rules apply in the word channel already, so what it
    brings in may all be asked; the tag channel's few members are checked with every rule in
    ``_CANDIDATES``, like capacity. The bounds are the service's constants, not input, and are
    written into the statement.

    Whether a tag or a word is rare is decided by reading at most one more of its holders than
    the bound from a B-tree, so the channels cost the same in a network of 100,000 as of 1,000
    (counting every holder of a common tag read 1,100 index entries at 10,000 members, ten times
    as many at 100,000). Every step is an index lookup bounded by the constants, whatever the
    parameters, so PostgreSQL may keep one generic plan for the statement instead of planning
    it for each question (1-1.5 ms; docs/performance.md)."""
    tag_members = int(retrieval.tag_members)
    term_members, lexical_members = int(retrieval.term_members), int(retrieval.lexical_members)
    lexical = (
        f"""
        UNION
        SELECT member_id FROM (
            SELECT sharing.member_id
            FROM (
                SELECT t.member_id, sum(distinctive.weight) AS score
                FROM (
                    SELECT question.term, ln(1.0 + {term_members}.0 / holders.count) AS weight
                    FROM unnest(tsvector_to_array(to_tsvector('german', {text}::text)))
                         AS question(term)
                    CROSS JOIN LATERAL (
                        SELECT {_holders("member_term", "term", "question.term", term_members)}
                               AS count
                    ) holders
                    WHERE holders.count BETWEEN 1 AND {term_members}
                ) distinctive
                JOIN member_term t ON t.term = distinctive.term
                GROUP BY t.member_id
                ORDER BY score DESC, t.member_id
                LIMIT {LEXICAL_SURPLUS * lexical_members}
            ) sharing
            JOIN member m ON m.id = sharing.member_id
            WHERE {_retrievable(asker)}
            ORDER BY sharing.score DESC, sharing.member_id
            LIMIT {lexical_members}
        ) lexical
        """
        if retrieval.lexical
        else ""
    )
    return f"""
        SELECT t.member_id FROM member_tag t
        WHERE t.tag_key = ANY(ARRAY(
            SELECT k.tag_key FROM unnest({tag_keys}::text[]) AS k(tag_key)
            WHERE {_holders("member_tag", "tag_key", "k.tag_key", tag_members)} <= {tag_members}
        ))
        {lexical}
    """


def _retrieved(model: str, retrieval: Retrieval) -> str:
    """The dense channel of ``retrieval`` (the owners of the passages nearest to the question,
    with the cheap hard rules applied), and the members the text channels brought in, given
    as $4."""
    return f"""
        SELECT member_id FROM (
            SELECT p.member_id FROM passage p JOIN member m ON m.id = p.member_id
            WHERE {_retrievable("$1")}
              AND {_nearest_order(model, model_param="$2", query_param="$3")}
            LIMIT {int(retrieval.dense_passages)}
        ) nearest
        UNION
        SELECT unnest($4::uuid[])
    """


async def candidates(
    conn: Connection,
    *,
    asker_id: UUID,
    model: str,
    query_vector: Vector,
    retrieval: Retrieval | None,
    text_members: Sequence[UUID] = (),
) -> list[Candidate]:
    """The ranker's view of the members who may be suggested to the asker, in one statement:
    everyone eligible (``retrieval`` None, for small networks), or the dense channel of
    ``retrieval`` and ``text_members``, those its text channels brought in (``asker_context``
    finds them while the question is embedded)."""
    vector = np.asarray(query_vector, dtype=np.float32)
    if retrieval is None:
        records = await conn.fetch(
            _CANDIDATES.format(pool=_EVERYONE, eligible=_ELIGIBLE), asker_id, model, vector
        )
    else:
        records = await conn.fetch(
            _CANDIDATES.format(pool=_retrieved(model, retrieval), eligible=_ELIGIBLE),
            asker_id,
            model,
            vector,
            list(text_members),
        )
    return [_candidate(record) for record in records]


def _candidate(record: asyncpg.Record) -> Candidate:
    return Candidate(
        member_id=str(record["id"]),
        name=record["name"],
        municipality_id=str(record["municipality_id"]),
        municipality=record["municipality_name"],
        state=record["state"],
        municipality_kind=record["kind"],
        role=record["role"],
        tags=tuple(record["tags"]),
        # Positional: a question builds about a thousand of these.
        # Windows come without their text (only the sentences' texts are read).
        passages=tuple(
            Passage(text or "", None, similarity, sentence)
            for text, similarity, sentence in zip(
                record["texts"], record["similarities"], record["sentences"], strict=True
            )
        ),
        open_requests=record["open_requests"],
        max_open_requests=record["max_open_requests"],
        feedback_prior=feedback_prior(record["ratings"], record["helpful_sum"]),
        centroid=None if record["centroid"] is None else PackedVector(record["centroid"]),
    )


@dataclass(frozen=True, slots=True)
class SearchBreadth:
    """The HNSW search breadth (``hnsw.ef_search``) for a network's size. HNSW finds fewer of
    the true nearest neighbours at the same breadth as its graph grows, so a small network is
    searched with ``small`` (cheaper) and one of ``large_from`` members or more with the
    connection's default (``service.db.HNSW_EF_SEARCH``). Both must be at least the rows the
    retrieval asks for (the index returns at most ``ef_search`` rows)."""

    small: int
    large_from: int


async def asker_context(
    conn: Connection,
    asker_id: UUID,
    breadth: SearchBreadth | None = None,
    retrieval: Retrieval | None = None,
) -> asyncpg.Record | None:
    """The asker's municipality, Land and kind, and the network's size (from the planner's
    statistics, which cost nothing; counted only while the table was never analyzed). With
    ``breadth``, the HNSW search breadth for a network of this size is set for the rest of the
    transaction, in the same round trip (outside a transaction the connection's default stays).

    With ``retrieval``, in a network of more than ``retrieval.bounded_above`` members,
    ``text_members`` are the members its text channels bring in (rare shared tags, distinctive
    words): they need the question's text but not its vector, so the service reads them while
    the question is embedded. Otherwise ``text_members`` is NULL."""
    text_members = (
        "NULL::uuid[]"
        if retrieval is None
        else f"""CASE WHEN network.size > {int(retrieval.bounded_above)} THEN ARRAY(
                 {_text_channels(retrieval, asker="$1", tag_keys="$4", text="$5")}) END"""
    )
    return await conn.fetchrow(
        f"""
        WITH network AS (
            SELECT CASE WHEN c.reltuples < 0 THEN (SELECT count(*) FROM member)
                        ELSE c.reltuples::bigint END AS size
            FROM pg_class c WHERE c.oid = 'member'::regclass
        )
        SELECT m.id, mu.id AS municipality_id, mu.state, mu.kind, network.size AS network_size,
               CASE WHEN $2::int IS NOT NULL AND network.size < $3::bigint
                    THEN set_config('hnsw.ef_search', $2::int::text, true) END AS search_breadth,
               {text_members} AS text_members
        FROM member m JOIN municipality mu ON mu.id = m.municipality_id CROSS JOIN network
        WHERE m.id = $1
        """,
        asker_id,
        None if breadth is None else breadth.small,
        None if breadth is None else breadth.large_from,
        *([] if retrieval is None else [list(retrieval.tag_keys)]),
        *([retrieval.text] if retrieval is not None and retrieval.lexical else []),
    )


async def insert_question(
    conn: Connection,
    *,
    asker_id: UUID,
    title: str,
    body: str,
    tags: Sequence[str],
    suggestions: Sequence[Suggestion],
    model: str,
) -> StoredQuestion:
    """Store a question with the suggestions made when it was asked, in one statement."""
    record = await conn.fetchrow(
        f"""
        WITH asked AS (
            INSERT INTO question (asker_id, title, body, tags) VALUES ($1, $2, $3, $4)
            RETURNING id, asker_id, title, body, tags, created_at
        ), suggested AS (
            INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model, source)
            SELECT asked.id, s.member_id, s.rank, s.score, s.reasons::jsonb, $8, 'asked'
            FROM asked, {_suggestion_rows(5)}
        )
        SELECT id, asker_id, title, body, tags, created_at FROM asked
        """,
        asker_id,
        title,
        body,
        list(tags),
        *_suggestion_arrays(suggestions),
        model,
    )
    assert record is not None
    return StoredQuestion(**{key: record[key] for key in record.keys()})  # noqa: SIM118


def _suggestion_rows(first: int) -> str:
    """Suggestions as rows (member_id, score, reasons, rank), from the arrays of
    ``_suggestion_arrays`` in parameters ``$first`` to ``$first + 2``; rank is the position."""
    return (
        f"unnest(${first}::uuid[], ${first + 1}::real[], ${first + 2}::text[]) "
        "WITH ORDINALITY AS s(member_id, score, reasons, rank)"
    )


def _suggestion_arrays(
    suggestions: Sequence[Suggestion],
) -> tuple[list[UUID], list[float], list[str]]:
    """The member ids, scores and reasons (JSON) of ``suggestions``, best first."""
    return (
        [UUID(suggestion.member.id) for suggestion in suggestions],
        [suggestion.score for suggestion in suggestions],
        [_reasons_json(suggestion) for suggestion in suggestions],
    )


def _reasons_json(suggestion: Suggestion) -> str:
    return json.dumps(suggestion.reasons.model_dump(), ensure_ascii=False)


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
    await conn.execute(
        f"""
        INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model, source)
        SELECT $1, s.member_id, s.rank, s.score, s.reasons::jsonb, $5, $6
        FROM {_suggestion_rows(2)}
        ON CONFLICT ON CONSTRAINT suggestion_pkey DO NOTHING
        """,
        question_id,
        *_suggestion_arrays(suggestions),
        model,
        source,
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
