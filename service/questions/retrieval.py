"""All SQL of candidate retrieval: the asker's context and the candidates a question ranks.

Every value travels as a bound parameter. The statements that answer a question vary in two
ways only, and are composed once, here, from the named fragments below:

* which members are candidates (``CANDIDATES_OF_EVERYONE`` for a small network,
  ``CANDIDATES_RETRIEVED`` through the bounded channels for a large one);
* how the nearest passages are found: the default model's passages have an HNSW index, which
  the planner uses only for a statement that names the model and orders by the indexed
  expression (``NEAREST_INDEXED``); another model's are searched exactly (``NEAREST_EXACT``).

The asker is always ``$1``, so the hard rules read the same in every statement. Cohesive and
long on purpose: the statements share their fragments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import numpy as np

from service.db import Connection
from service.embedding import DEFAULT_MODEL, Vector
from service.matching.rank import DEFAULT_WEIGHTS, feedback_prior
from service.matching.types import Candidate, PackedVector, Passage

# ---------------------------------------------------------------------------------------------
# Fragments
# ---------------------------------------------------------------------------------------------

# The hard rules that need no counting, for the asker $1 (member ``m``): not the asker, nobody
# from the asker's municipality, nobody who paused. Candidate retrieval applies these.
_MAY_BE_ASKED = """
    m.id <> $1
    AND m.municipality_id <> (SELECT municipality_id FROM member WHERE id = $1)
    AND m.accepting_requests
"""

# Every hard rule: the above, and capacity (open requests below the member's maximum).
_ELIGIBLE = (
    _MAY_BE_ASKED
    + """
    AND m.max_open_requests > coalesce(
        (SELECT o.open_requests FROM member_open_requests o WHERE o.member_id = m.id), 0)
"""
)

# The passages the dense channel searches, nearest to the question's vector $3 first, of the model
# $2. ``NEAREST_INDEXED`` serves the default model from its partial HNSW index (the migrations
# `retrieval_indexes` and `window_index`: over the searched passages, on
# ``embedding::vector(512)``), whose predicate and expression the statement must repeat for the
# planner to use it. ``NEAREST_EXACT`` serves any other model by exact search.
NEAREST_INDEXED = """
    p.model = $2 AND p.model = 'use-multilingual-v3' AND p.searched
    ORDER BY p.embedding::vector(512) <=> $3
"""
NEAREST_EXACT = """
    p.model = $2 AND p.searched
    ORDER BY p.embedding <=> $3
"""
INDEXED_MODEL = DEFAULT_MODEL

# Candidate pools: the member ids a question ranks (``{pool}`` of ``_CANDIDATES``).
# Everyone who may be asked (small networks are ranked in full):
_POOL_EVERYONE = f"SELECT m.id AS member_id FROM member m WHERE {_MAY_BE_ASKED}"
# The owners of the $5 nearest passages (the cheap hard rules applied), and the members the
# text channels found ($4, from ``ASKER_CONTEXT``):
_POOL_RETRIEVED = f"""
    SELECT member_id FROM (
        SELECT p.member_id FROM passage p JOIN member m ON m.id = p.member_id
        WHERE {_MAY_BE_ASKED} AND {{nearest}}
        LIMIT $5
    ) nearest
    UNION
    SELECT unnest($4::uuid[])
    UNION
    SELECT r.peer_id FROM consultation_request r
    WHERE r.question_id = ANY($6::uuid[]) AND r.named AND r.status = 'accepted'
"""

# The candidates' rows in one statement: the pool's members who pass every hard rule, each with
# profile, tags, load, feedback, packed centroid and every passage's cosine similarity to the
# question $3 (computed in PostgreSQL, so vectors never travel; computed before the rows are sorted
# for aggregation, so the sort moves no vectors). Windows of several sentences come without their
# text (only sentences are read; a passage from before the `passage_sentences` migration has no flag
# and keeps it). One scan of the candidates' passages (a lateral subquery per member costs more).
# The pool is matched as an array (``= ANY(ARRAY(...))``): joined as a relation, its size was
# overestimated and the planner scanned every member instead of looking up the few (12 ms at 10,000
# members).
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
),
-- The shared outcomes that name a candidate, as passages of their profile that come after it:
-- the question with its outcome (a window), and the outcome alone (a sentence, whose words the
-- lexical channel reads; never shown as the matching sentence), each with the title of the
-- question advised on.
consulted AS (
    SELECT r.peer_id AS member_id,
           array_agg(1 - (op.embedding <=> $3) ORDER BY q.id, op.position) AS similarities,
           array_agg(q.title ORDER BY q.id, op.position) AS titles,
           array_agg(CASE WHEN op.position = 1 THEN o.text END ORDER BY q.id, op.position)
               AS texts
    FROM consultation_request r
    JOIN outcome_passage op ON op.question_id = r.question_id AND op.model = $2
    JOIN outcome o ON o.question_id = r.question_id
    JOIN question q ON q.id = r.question_id
    WHERE r.peer_id = ANY(ARRAY(SELECT member_id FROM pool))
      AND r.named AND r.status = 'accepted'
    GROUP BY r.peer_id
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
       coalesce(s.sentences, '{{}}') AS sentences,
       coalesce(k.similarities, '{{}}') AS consulted_similarities,
       coalesce(k.titles, '{{}}') AS consulted_titles,
       coalesce(k.texts, '{{}}') AS consulted_texts
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
LEFT JOIN consulted k ON k.member_id = m.id
WHERE m.id = ANY(ARRAY(SELECT member_id FROM pool)) AND {eligible}
"""

# ---------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------

# $1 asker, $2 model, $3 question vector.
CANDIDATES_OF_EVERYONE = _CANDIDATES.format(pool=_POOL_EVERYONE, eligible=_ELIGIBLE)
# $1 asker, $2 model, $3 question vector, $4 members of the text channels, $5 nearest passages,
# $6 the questions of the nearest shared outcomes (whose named helpers join the pool).
CANDIDATES_RETRIEVED = _CANDIDATES.format(
    pool=_POOL_RETRIEVED.format(nearest=NEAREST_INDEXED), eligible=_ELIGIBLE
)
CANDIDATES_RETRIEVED_EXACT = _CANDIDATES.format(
    pool=_POOL_RETRIEVED.format(nearest=NEAREST_EXACT), eligible=_ELIGIBLE
)

# The dense score a typical member reaches for the question $2 (model $1), where the candidates
# are a large network's nearest few and their median would say nothing about the rest
# (``fit.typical_dense``): the median over the first $4 members by id (random ids: a fixed random
# sample, read from the primary key) of the mean of each one's $3 best passage similarities, as
# ``rank`` computes it; 0 for a member without passages, as there too.
TYPICAL_DENSE = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY dense)
FROM (
    SELECT coalesce((
        SELECT avg(best.similarity) FROM (
            SELECT 1 - (p.embedding <=> $2) AS similarity FROM passage p
            WHERE p.member_id = sample.id AND p.model = $1
            ORDER BY similarity DESC LIMIT $3
        ) best
    ), 0) AS dense
    FROM (SELECT id FROM member ORDER BY id LIMIT $4) sample
) member_dense
"""

# The asker's context, and what a large network's text channels bring in, in one round trip
# (run while the question is embedded):
#
# * the asker's Land and municipality kind; the network's size from the planner's statistics
#   (free; counted only while ``member`` was never analyzed);
# * in a network below $3 members, the HNSW search breadth $2 for the rest of the transaction
#   (``set_config(..., true)``; outside a transaction the connection's default stays);
# * in a network of more than $4 members, ``text_members``: the members of the tag channel
#   (those holding a question tag, $5, that at most $6 members hold) and of the word channel
#   (at most $9 members sharing the question's most distinctive words, a word of the question
#   $7 being distinctive when at most $8 members use it, and the rarer the more it counts; the
#   channel ranks $10 members by their shared words before the cheap hard rules look the few
#   up by key: applied to every member sharing a word, the rules had PostgreSQL hash a full
#   scan of ``member``). Otherwise NULL.
#
# Whether a tag or a word is rare is decided by reading at most one more of its holders than
# the bound from a B-tree, so the channels cost the same in a network of 100,000 as of 1,000
# (counting every holder of a common tag read 1,100 index entries at 10,000 members, ten times
# as many at 100,000). The tag channel's members are checked with every rule in the candidate
# statement, like capacity.
ASKER_CONTEXT = (
    """
WITH network AS (
    SELECT CASE WHEN c.reltuples < 0 THEN (SELECT count(*) FROM member)
                ELSE c.reltuples::bigint END AS size
    FROM pg_class c WHERE c.oid = 'member'::regclass
)
SELECT mu.state, mu.kind, network.size AS network_size,
       CASE WHEN network.size < $3::bigint
            THEN set_config('hnsw.ef_search', $2::int::text, true) END AS search_breadth,
       CASE WHEN network.size > $4::bigint THEN ARRAY(
            SELECT t.member_id FROM member_tag t
            WHERE t.tag_key = ANY(ARRAY(
                SELECT k.tag_key FROM unnest($5::text[]) AS k(tag_key)
                WHERE (SELECT count(*) FROM (
                           SELECT FROM member_tag holder WHERE holder.tag_key = k.tag_key
                           LIMIT $6::int + 1) bounded) <= $6::int
            ))
            UNION
            SELECT member_id FROM (
                SELECT sharing.member_id
                FROM (
                    SELECT t.member_id, sum(distinctive.weight) AS score
                    FROM (
                        SELECT question.term, ln(1.0 + $8::int / holders.count::float8) AS weight
                        FROM unnest(tsvector_to_array(to_tsvector('german', $7::text)))
                             AS question(term)
                        CROSS JOIN LATERAL (
                            SELECT count(*) AS count FROM (
                                SELECT FROM member_term holder WHERE holder.term = question.term
                                LIMIT $8::int + 1) bounded
                        ) holders
                        WHERE holders.count BETWEEN 1 AND $8::int
                    ) distinctive
                    JOIN member_term t ON t.term = distinctive.term
                    GROUP BY t.member_id
                    ORDER BY score DESC, t.member_id
                    LIMIT $10::int
                ) sharing
                JOIN member m ON m.id = sharing.member_id
                WHERE """
    + _MAY_BE_ASKED
    + """
                ORDER BY sharing.score DESC, sharing.member_id
                LIMIT $9::int
            ) lexical
       ) END AS text_members
FROM member m JOIN municipality mu ON mu.id = m.municipality_id CROSS JOIN network
WHERE m.id = $1
"""
)

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The bounds of a large network's candidate channels, each costing about the same at
    10,000 members as at 100,000 (see ``ASKER_CONTEXT`` and ``CANDIDATES_RETRIEVED``)."""

    # The owners of this many passages nearest to the question (HNSW).
    dense_passages: int
    # A question tag held by at most this many members brings them all in.
    tag_members: int
    # At most ``lexical_members`` members who share the question's words that at most
    # ``term_members`` members use; ``lexical_surplus`` times as many are ranked before the
    # hard rules.
    term_members: int
    lexical_members: int
    lexical_surplus: int
    # Networks of at most this many members are ranked in full instead.
    bounded_above: int


@dataclass(frozen=True, slots=True)
class SearchBreadth:
    """The HNSW search breadth (``hnsw.ef_search``) for a network's size. HNSW finds fewer of
    the true nearest neighbours at the same breadth as its graph grows, so a small network is
    searched with ``small`` (cheaper) and one of ``large_from`` members or more with the
    connection's default (``service.db.HNSW_EF_SEARCH``). Both must be at least the rows the
    retrieval asks for (the index returns at most ``ef_search`` rows)."""

    small: int
    large_from: int


@dataclass(frozen=True, slots=True)
class AskerContext:
    """The asker's Land and municipality kind, and the network's size."""

    state: str
    kind: str | None
    network_size: int
    # The members the text channels brought in; None when the network is ranked in full.
    text_members: list[UUID] | None


async def asker_context(
    conn: Connection,
    asker_id: UUID,
    *,
    text: str,
    tag_keys: Sequence[str],
    retrieval: Retrieval,
    breadth: SearchBreadth,
) -> AskerContext | None:
    """``ASKER_CONTEXT`` for the asker and a question's ``text`` and normalized ``tag_keys``;
    None when the asker is no member."""
    record = await conn.fetchrow(
        ASKER_CONTEXT,
        asker_id,
        breadth.small,
        breadth.large_from,
        retrieval.bounded_above,
        list(tag_keys),
        retrieval.tag_members,
        text,
        retrieval.term_members,
        retrieval.lexical_members,
        retrieval.lexical_surplus * retrieval.lexical_members,
    )
    if record is None:
        return None
    return AskerContext(
        state=record["state"],
        kind=record["kind"],
        network_size=record["network_size"],
        text_members=record["text_members"],
    )


async def all_candidates(
    conn: Connection, *, asker_id: UUID, model: str, query_vector: Vector
) -> list[Candidate]:
    """Every member who may be suggested to the asker, as the ranker sees them."""
    records = await conn.fetch(
        CANDIDATES_OF_EVERYONE, asker_id, model, np.asarray(query_vector, dtype=np.float32)
    )
    return [_candidate(record) for record in records]


async def retrieved_candidates(
    conn: Connection,
    *,
    asker_id: UUID,
    model: str,
    query_vector: Vector,
    dense_passages: int,
    text_members: Sequence[UUID],
    consulted: Sequence[UUID],
) -> list[Candidate]:
    """The members who may be suggested among the owners of the ``dense_passages`` passages
    nearest to the question, the ``text_members`` (``AskerContext.text_members``) and the named
    helpers of the shared outcomes of the questions ``consulted`` (``nearest_outcomes``)."""
    records = await conn.fetch(
        CANDIDATES_RETRIEVED if model == INDEXED_MODEL else CANDIDATES_RETRIEVED_EXACT,
        asker_id,
        model,
        np.asarray(query_vector, dtype=np.float32),
        list(text_members),
        dense_passages,
        list(consulted),
    )
    return [_candidate(record) for record in records]


# Members whose dense scores tell what a question reaches in a large network (``fit``): the
# median of 64 has a standard error of about 0.01 in dense score.
TYPICAL_SAMPLE = 64


async def typical_dense(
    conn: Connection,
    *,
    model: str,
    query_vector: Vector,
    top: int = DEFAULT_WEIGHTS.dense_top,
    sample: int = TYPICAL_SAMPLE,
) -> float | None:
    """``TYPICAL_DENSE`` over the first ``sample`` members, each by their ``top`` passages, as
    the ranker computes a dense score: None for a network without members."""
    value = await conn.fetchval(
        TYPICAL_DENSE, model, np.asarray(query_vector, dtype=np.float32), top, sample
    )
    return None if value is None else float(value)


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
        )
        + tuple(
            Passage(text or "", None, similarity, text is not None, title)
            for similarity, title, text in zip(
                record["consulted_similarities"],
                record["consulted_titles"],
                record["consulted_texts"],
                strict=True,
            )
        ),
        open_requests=record["open_requests"],
        max_open_requests=record["max_open_requests"],
        feedback_prior=feedback_prior(record["ratings"], record["helpful_sum"]),
        centroid=None if record["centroid"] is None else PackedVector(record["centroid"]),
    )
