"""Asking a question: retrieve candidates in PostgreSQL, rank them in Python, keep the result."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, replace
from uuid import UUID

import numpy as np

from models.questions import (
    OPEN_FOR_DAYS,
    OpenQuestionMatch,
    Question,
    QuestionCreate,
    QuestionDraft,
    QuestionUpdate,
    Suggestion,
)
from service import identity, metrics, timing
from service.db import REPLICA_DOWN, Connection, ReadReplica
from service.embedding import Embedder, Vector
from service.errors import Forbidden, NotFound
from service.matching import rank as ranking
from service.matching.tags import normalize_tag
from service.matching.types import Candidate, Query
from service.outcomes import repository as outcomes_repository
from service.outcomes import service as outcomes_service
from service.questions import audience as audience_repository
from service.questions import repository, retrieval
from service.questions.retrieval import AskerContext

# How a question finds its candidates (docs/performance.md, "How a question is answered").
# Networks of up to ``bounded_above`` members are ranked in full. Larger ones take bounded
# channels, so a question costs about the same at 10,000 members as at 100,000:
#
# * dense: the owners of the 50 nearest searched passages (the windows, and the sentence of a
#   one-sentence profile). With the development set inside 10,000 synthetic members
#   (`peerconsult evaluate ../shared/data/dev --within 10000`), 30 to 100 nearest passages all
#   brought 33-34 of the 45 colleagues judged helpful (grade >= 2) into the candidates once
#   the word channel existed; 50 ranks 41 candidates a question instead of 76 at 100.
# * tags: every holder of a question tag that at most 40 members hold.
# * words: at most 25 members who share the question's distinctive words (used by at most 100
#   members); in the same evaluation the dense channel alone brought 27 of the 45, with this
#   channel 34 (nDCG@5 0.568 -> 0.597 at 100 nearest passages).
RETRIEVAL = retrieval.Retrieval(
    dense_passages=50,
    tag_members=40,
    term_members=100,
    lexical_members=25,
    lexical_surplus=4,
    bounded_above=300,
)
# The HNSW search breadth (``hnsw.ef_search``): 150 below 25,000 members, the connection's 250
# (service.db.HNSW_EF_SEARCH) from there; both at least ``dense_passages``, since the index returns
# at most that many rows. Recall@50 against exact search on 10,000 synthetic members: 0.986 at 100,
# 0.995 at 150, 0.997 at 200; on 100,000, with the graph of the `denser_graph` migration,
# 0.965-0.986 at 200 and 0.988-0.989 at 250 on two builds. `peerconsult bench` measures it.
SEARCH_BREADTH = retrieval.SearchBreadth(small=150, large_from=25_000)


# In a large network, the named helpers of the shared outcomes of this many questions nearest to
# a question join its candidates (a helper of a farther one is found by their own passages).
CONSULTED_IN_POOL = 5

# An open question is shown to at most this many colleagues who fit it, the best fitting first.
AUDIENCE = 200

# Questions kept for one member while they sign in again; a newer one replaces the oldest.
DRAFTS_PER_MEMBER = 3


@dataclass(frozen=True, slots=True)
class _Retrieved:
    """What a question is ranked on: the asker's context, the candidates, the dense score a
    typical member reaches (when the candidates are a large network's nearest few), and the
    questions of the shared outcomes nearest to it."""

    asker: AskerContext | None
    candidates: list[Candidate]
    typical: float | None
    outcomes: list[UUID]


async def _retrieve(
    conn: Connection,
    embedding: asyncio.Future[Vector],
    *,
    model: str,
    asker_id: UUID,
    text: str,
    tag_keys: list[str],
    outcomes_wanted: bool,
) -> _Retrieved:
    """``_Retrieved``, read on ``conn`` while the question is being embedded (``embedding``);
    the nearest shared outcomes where the caller wants them or a large network's candidates
    need them."""
    asker = await timing.timed(
        "context",
        retrieval.asker_context(
            conn,
            asker_id,
            text=text,
            tag_keys=tag_keys,
            retrieval=RETRIEVAL,
            breadth=SEARCH_BREADTH,
        ),
    )
    if asker is None:
        return _Retrieved(None, [], None, [])
    vector = (await embedding)[0]
    outcomes: list[UUID] = []
    if outcomes_wanted or asker.text_members is not None:
        with timing.stage("outcomes"):
            outcomes = await outcomes_repository.nearest_outcomes(
                conn, model=model, query_vector=vector, passages=outcomes_service.NEAREST_PASSAGES
            )
    if asker.text_members is None:
        with timing.stage("candidates"):
            candidates = await retrieval.all_candidates(
                conn, asker_id=asker_id, model=model, query_vector=vector
            )
        return _Retrieved(asker, candidates, None, outcomes)
    with timing.stage("typical"):
        typical = await retrieval.typical_dense(conn, model=model, query_vector=vector)
    with timing.stage("candidates"):
        candidates = await retrieval.retrieved_candidates(
            conn,
            asker_id=asker_id,
            model=model,
            query_vector=vector,
            dense_passages=RETRIEVAL.dense_passages,
            text_members=asker.text_members,
            consulted=outcomes[:CONSULTED_IN_POOL],
        )
    return _Retrieved(asker, candidates, typical, outcomes)


async def suggest(
    conn: Connection,
    embedder: Embedder,
    *,
    asker_id: UUID,
    title: str,
    body: str,
    tags: list[str],
    limit: int,
    replica: ReadReplica | None = None,
    vector: Vector | None = None,
    audience: int = 0,
) -> ranking.Ranking:
    """``ranked``'s ranking (see there)."""
    found, _, _ = await ranked(
        conn,
        embedder,
        asker_id=asker_id,
        title=title,
        body=body,
        tags=tags,
        limit=limit,
        replica=replica,
        vector=vector,
        audience=audience,
    )
    return found


async def ranked(
    conn: Connection,
    embedder: Embedder,
    *,
    asker_id: UUID,
    title: str,
    body: str,
    tags: list[str],
    limit: int,
    replica: ReadReplica | None = None,
    vector: Vector | None = None,
    audience: int = 0,
    outcomes: bool = False,
) -> tuple[ranking.Ranking, Query, list[UUID]]:
    """The best colleagues for this question, applying every hard rule of matching, and how
    well the best candidate fits it (a gap when nobody does); ``vector``: the question's
    embedding, when the caller has it already; ``audience``: also who fits it (at most that
    many, for an open question); ``outcomes``: also the questions of the shared outcomes
    nearest to it (``related``; found anyway where a large network needs them). With a
    ``replica``, the asker's context and the candidates are read there (other members'
    profiles may lag a second behind); when it is down, or does not know the asker yet (a
    member created a moment ago), from the primary."""
    text = f"{title}\n{body}"
    tag_keys = sorted({key for key in (normalize_tag(tag) for tag in tags) if key})
    # The question is embedded (in a thread) while the asker's context and, in a large
    # network, the members its text brings in are read.
    embedding: asyncio.Future[Vector]
    if vector is None:
        embedding = asyncio.ensure_future(
            timing.timed("embed", asyncio.to_thread(embedder.embed_queries, [text]))
        )
    else:
        embedding = asyncio.get_running_loop().create_future()
        embedding.set_result(np.asarray(vector, dtype=np.float32).reshape(1, -1))
    retrieve = functools.partial(
        _retrieve, embedding=embedding, model=embedder.name, asker_id=asker_id, text=text,
        tag_keys=tag_keys, outcomes_wanted=outcomes,
    )  # fmt: skip
    found: _Retrieved | None = None
    try:
        if replica is not None:
            try:
                async with replica.reading() as standby:
                    if standby is not None:
                        found = await retrieve(standby)
            except REPLICA_DOWN as exc:
                replica.failed(exc)
                found = None
        if found is None or found.asker is None:
            found = await retrieve(conn)
    finally:
        vectors = await embedding
    asker, candidates, typical = found.asker, found.candidates, found.typical
    if asker is None:
        raise NotFound(f"No member with id {asker_id}.")
    query = Query(
        title=title,
        body=body,
        tags=tuple(tags),
        vector=np.asarray(vectors[0], dtype=np.float32),
        asker_state=asker.state,
        asker_municipality_kind=asker.kind,
        typical_dense=typical,
    )
    with timing.stage("rank"):
        ranked_now = await asyncio.to_thread(
            functools.partial(ranking.ranked, limit=limit, audience=audience), query, candidates
        )
    return ranked_now, query, found.outcomes


async def ask(
    conn: Connection,
    embedder: Embedder,
    principal: identity.MemberPrincipal,
    data: QuestionCreate,
    *,
    replica: ReadReplica | None = None,
) -> Question:
    """Post a question as the calling member and suggest colleagues for it, with what the
    network already worked out on it (``related``)."""
    found, query, nearest = await ranked(
        conn,
        embedder,
        asker_id=principal.member_id,
        title=data.title,
        body=data.body,
        tags=data.tags,
        limit=data.limit,
        replica=replica,
        audience=AUDIENCE if data.open else 0,
        outcomes=True,
    )
    with timing.stage("store"):
        stored = await repository.insert_question(
            conn,
            asker_id=principal.member_id,
            title=data.title,
            body=data.body,
            tags=data.tags,
            suggestions=found.suggestions,
            coverage=found.coverage,
            model=embedder.name,
        )
        if data.open:
            await audience_repository.set_open(conn, stored.id, found.audience)
            stored = replace(stored, open=True)
    with timing.stage("related"):
        related = await outcomes_service.related(
            conn, query, nearest, model=embedder.name, typical=found.typical_dense
        )
    metrics.QUESTIONS.inc()
    return repository.question_schema(stored, found.suggestions).model_copy(
        update={"related": related}
    )


async def _own_question(
    conn: Connection, principal: identity.Principal, question_id: UUID
) -> repository.StoredQuestion:
    stored = await repository.get_question(conn, question_id)
    if stored is None:
        raise NotFound(f"No question with id {question_id}.")
    if not principal.may_act_for(stored.asker_id):
        raise Forbidden("Only the asker and the coordinator can see a question.")
    return stored


async def get_question(
    conn: Connection, principal: identity.Principal, question_id: UUID
) -> Question:
    """The question with the suggestions made when it was asked, and its outcome."""
    stored = await _own_question(conn, principal, question_id)
    return repository.question_schema(
        stored, await repository.stored_suggestions(conn, question_id)
    ).model_copy(
        update={"outcome": await outcomes_service.outcome_of(conn, principal, question_id)}
    )


async def current_suggestions(
    conn: Connection,
    embedder: Embedder,
    principal: identity.Principal,
    question_id: UUID,
    *,
    limit: int,
    replica: ReadReplica | None = None,
) -> list[Suggestion]:
    """Suggestions for an earlier question, computed on the network as it is now."""
    stored = await _own_question(conn, principal, question_id)
    found = await suggest(
        conn,
        embedder,
        asker_id=stored.asker_id,
        title=stored.title,
        body=stored.body,
        tags=list(stored.tags),
        limit=limit,
        replica=replica,
    )
    with timing.stage("store"):
        await repository.store_suggestions(
            conn, question_id, found.suggestions, model=embedder.name, source="refreshed"
        )
    return found.suggestions


async def set_open(
    conn: Connection,
    embedder: Embedder,
    principal: identity.MemberPrincipal,
    question_id: UUID,
    update: QuestionUpdate,
) -> Question:
    """Open a question to every colleague who fits it (who that is, is worked out now, on the
    network as it is), or close it: it then leaves every list. Only its asker may."""
    stored = await repository.get_question(conn, question_id)
    if stored is None:
        raise NotFound(f"No question with id {question_id}.")
    if principal.member_id != stored.asker_id:
        raise Forbidden("Only the member who asked the question can open or close it.")
    if update.open and not stored.open:
        found = await suggest(
            conn,
            embedder,
            asker_id=stored.asker_id,
            title=stored.title,
            body=stored.body,
            tags=list(stored.tags),
            limit=0,
            audience=AUDIENCE,
        )
        await audience_repository.set_open(conn, question_id, found.audience)
    elif not update.open and stored.open:
        await audience_repository.close(conn, question_id)
    return repository.question_schema(
        replace(stored, open=update.open), await repository.stored_suggestions(conn, question_id)
    )


async def open_questions(
    conn: Connection, principal: identity.MemberPrincipal, *, limit: int
) -> list[OpenQuestionMatch]:
    """The open questions that fit the calling member, best first (``OPEN_FOR_MEMBERS``)."""
    return await audience_repository.open_for(
        conn, principal.member_id, limit=limit, days=OPEN_FOR_DAYS
    )


async def reached(conn: Connection, question: Question) -> int:
    """How many colleagues an open question is shown to now (0 for a closed one)."""
    return await audience_repository.size(conn, UUID(question.id)) if question.open else 0


async def own_questions(
    conn: Connection, principal: identity.MemberPrincipal
) -> list[repository.StoredQuestion]:
    """The calling member's questions, oldest first."""
    return await repository.questions_of(conn, principal.member_id)


async def keep_draft(
    conn: Connection, principal: identity.MemberPrincipal, draft: QuestionDraft
) -> UUID:
    """Keep a question as written when its author's session ended before they sent it; the
    id brings it back once they have signed in again (``take_draft``). A member has at most
    ``DRAFTS_PER_MEMBER`` kept; they are deleted after ``housekeeping.DRAFTS_KEPT``."""
    return await repository.save_draft(
        conn,
        member_id=principal.member_id,
        title=draft.title,
        body=draft.body,
        tags=draft.tags,
        kept_per_member=DRAFTS_PER_MEMBER,
    )


async def take_draft(
    conn: Connection, principal: identity.MemberPrincipal, draft_id: UUID
) -> QuestionDraft | None:
    """The member's kept question, which is then deleted; None when it is gone (or another
    member's)."""
    kept = await repository.take_draft(conn, principal.member_id, draft_id)
    if kept is None:
        return None
    title, body, tags = kept
    return QuestionDraft(title=title, body=body, tags=tags)
