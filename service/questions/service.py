"""Asking a question: retrieve candidates in PostgreSQL, rank them in Python, keep the result."""

from __future__ import annotations

import asyncio
from uuid import UUID

import numpy as np

from models.questions import Question, QuestionCreate, Suggestion
from service import auth, timing
from service.db import Connection
from service.embedding import Embedder
from service.errors import Forbidden, NotFound
from service.matching import rank as ranking
from service.matching.tags import normalize_tag
from service.matching.types import Query
from service.questions import repository

# Networks up to this size are ranked in full: every eligible member is a candidate.
EXHAUSTIVE_MEMBERS = 300
# Larger networks: bounded candidate channels, so a question costs about the same at 10,000
# members as at 100,000. The owners of this many nearest passages (the windows and the
# one-sentence profiles since migration 0009, repository.SEARCHED_PASSAGES) are the dense
# channel. Measured with the judged development set inside a network of 10,000 synthetic
# members (`peerconsult evaluate --within 10000`, 2026-12-02, docs/performance.md): with the word
# channel below, 30, 40, 50, 60 and 100 passages all brought 33-34 of the 45 colleagues judged
# helpful (grade >= 2) into the candidates (the index is built anew each run), and 50 ranks 41
# candidates instead of 76 (a question 14.2 instead of 18.9 ms in one process).
# The HNSW search breadth (hnsw.ef_search, set on every connection in service/db.py) must be at
# least DENSE_PASSAGES: the index returns at most that many rows.
DENSE_PASSAGES = 50
# A question tag held by at most this many members brings them all in as candidates.
TAG_MEMBERS = 40
# The lexical channel: at most LEXICAL_MEMBERS members who share the question's distinctive
# words, a word being distinctive when at most TERM_MEMBERS members use it. Measured with the
# judged development set inside 10,000 synthetic members (`peerconsult evaluate --within`):
# the dense channel alone (100 nearest passages) brought 27 of the 45 colleagues judged
# helpful (grade >= 2) into the candidates, with this channel 34 (the same with 40, 100 or 200
# and with 25 or 50 members); nDCG@5 0.568 -> 0.597. It costs about 1.3 ms of the database's
# time a question there, spent while the question is embedded (docs/performance.md).
TERM_MEMBERS = 100
LEXICAL_MEMBERS = 25
# The HNSW search breadth: 150 below 25,000 members, the connection's 250 from there. Measured
# recall@50 of the index against exact search on 10,000 synthetic members: 0.986 at 100, 0.995
# at 150, 0.997 at 200 (3.3 ms against 5.3 ms per search). On 100,000 it depends on the build
# of the graph: with ef_construction 64, on five builds of the same passages (100 questions)
# 0.950-0.979 at 200, a question finding none of its 50 nearest on three, and 0.987-0.993 at
# 400; with 128 (migration 0010) 0.965 / 0.986 at 200 (one question at none on the first
# build) and 0.988 / 0.989 at 250, no question below 0.90, 5.4-6.1 ms a search against 8.9 at
# 400 (docs/performance.md, 2026-12-03). `peerconsult bench` measures the recall with this rule.
SEARCH_BREADTH = repository.SearchBreadth(small=150, large_from=25_000)


def parse_question_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No question with id {raw!r}.") from None


async def suggest(
    conn: Connection,
    embedder: Embedder,
    *,
    asker_id: UUID,
    title: str,
    body: str,
    tags: list[str],
    limit: int,
) -> list[Suggestion]:
    """The best colleagues for this question, applying every hard rule of matching."""
    text = f"{title}\n{body}"
    tag_keys = sorted({key for key in (normalize_tag(tag) for tag in tags) if key})
    retrieval = repository.Retrieval(
        tag_keys=tag_keys,
        dense_passages=DENSE_PASSAGES,
        tag_members=TAG_MEMBERS,
        text=text,
        term_members=TERM_MEMBERS,
        lexical_members=LEXICAL_MEMBERS,
        bounded_above=EXHAUSTIVE_MEMBERS,
    )
    # The question is embedded (in a thread) while the asker's context and, in a large
    # network, the members its text brings in are read.
    asker, vectors = await asyncio.gather(
        timing.timed(
            "context", repository.asker_context(conn, asker_id, SEARCH_BREADTH, retrieval)
        ),
        timing.timed("embed", asyncio.to_thread(embedder.embed_queries, [text])),
    )
    if asker is None:
        raise NotFound(f"No member with id {asker_id}.")
    vector = vectors[0]
    bounded = asker["text_members"] is not None
    with timing.stage("candidates"):
        candidates = await repository.candidates(
            conn,
            asker_id=asker_id,
            model=embedder.name,
            query_vector=vector,
            retrieval=retrieval if bounded else None,
            text_members=asker["text_members"] or (),
        )
    query = Query(
        title=title,
        body=body,
        tags=tuple(tags),
        vector=np.asarray(vector, dtype=np.float32),
        asker_state=asker["state"],
        asker_municipality_kind=asker["kind"],
    )
    with timing.stage("rank"):
        return await asyncio.to_thread(ranking.rank, query, candidates, limit=limit)


async def ask(
    conn: Connection,
    embedder: Embedder,
    principal: auth.MemberPrincipal,
    data: QuestionCreate,
) -> Question:
    """Post a question as the calling member and suggest colleagues for it."""
    suggestions = await suggest(
        conn,
        embedder,
        asker_id=principal.member_id,
        title=data.title,
        body=data.body,
        tags=data.tags,
        limit=data.limit,
    )
    with timing.stage("store"):
        stored = await repository.insert_question(
            conn,
            asker_id=principal.member_id,
            title=data.title,
            body=data.body,
            tags=data.tags,
            suggestions=suggestions,
            model=embedder.name,
        )
    return repository.question_schema(stored, suggestions)


async def _own_question(
    conn: Connection, principal: auth.Principal, question_id: UUID
) -> repository.StoredQuestion:
    stored = await repository.get_question(conn, question_id)
    if stored is None:
        raise NotFound(f"No question with id {question_id}.")
    if not principal.may_act_for(stored.asker_id):
        raise Forbidden("Only the asker and the coordinator can see a question.")
    return stored


async def get_question(conn: Connection, principal: auth.Principal, question_id: UUID) -> Question:
    stored = await _own_question(conn, principal, question_id)
    return repository.question_schema(
        stored, await repository.stored_suggestions(conn, question_id)
    )


async def current_suggestions(
    conn: Connection,
    embedder: Embedder,
    principal: auth.Principal,
    question_id: UUID,
    *,
    limit: int,
) -> list[Suggestion]:
    """Suggestions for an earlier question, computed on the network as it is now."""
    stored = await _own_question(conn, principal, question_id)
    suggestions = await suggest(
        conn,
        embedder,
        asker_id=stored.asker_id,
        title=stored.title,
        body=stored.body,
        tags=list(stored.tags),
        limit=limit,
    )
    with timing.stage("store"):
        await repository.store_suggestions(
            conn, question_id, suggestions, model=embedder.name, source="refreshed"
        )
    return suggestions


async def own_questions(
    conn: Connection, principal: auth.MemberPrincipal
) -> list[repository.StoredQuestion]:
    """The calling member's questions, oldest first."""
    return await repository.questions_of(conn, principal.member_id)
