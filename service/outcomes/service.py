"""What came out of a consultation, kept for the network.

Once a request of a question was accepted, its asker records the outcome: seen by the asker, the
colleagues of its accepted requests and the coordinator; shared, by every member. A shared
outcome is embedded once when it is written (``outcome_passage``), found for later questions on
the same topic (``related``, ``search``), and counts in matching as a passage of each colleague
who chose to be named on it (``service.questions.retrieval``), whose suggestion then says so.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from models.outcomes import Outcome, OutcomeWrite, Related, RelatedList
from models.questions import Question
from models.requests import ConsultationRequest, RequestStatus
from service import identity
from service.db import Connection
from service.embedding import Embedder, Vector
from service.errors import Conflict, Forbidden, NotFound
from service.matching import fit
from service.matching import related as matching
from service.matching.types import Query
from service.notifications import memory, messages, outbox
from service.notifications.mailing import Mailing
from service.outcomes import repository
from service.questions import repository as questions_repository
from service.questions import retrieval
from service.requests import repository as requests_repository
from service.requests.service import request_schema

# A question scores the shared outcomes with one of this many passages nearest to it (and in a
# large network, their named helpers join its candidates); a search, with one of SEARCHED, and
# shows at most MAX_SEARCH.
NEAREST_PASSAGES = 10
SEARCHED = 40
MAX_SEARCH = 50
# The reminder goes out a week after the acceptance; a request accepted more than a week
# before that (or before the reminders existed) is not reminded of at all.
REMIND_AFTER = timedelta(days=7)
REMIND_WITHIN = timedelta(days=7)


async def _visible_to(
    conn: Connection, principal: identity.Principal, stored: repository.StoredOutcome
) -> bool:
    if stored.shared or principal.may_act_for(stored.asker_id):
        return True
    return isinstance(principal, identity.MemberPrincipal) and (
        principal.member_id in await repository.accepted_peers(conn, stored.question_id)
    )


async def outcome_of(
    conn: Connection, principal: identity.Principal, question_id: UUID
) -> Outcome | None:
    """The question's outcome, where ``principal`` may see it (None otherwise, or before one
    was recorded)."""
    stored = await repository.get(conn, question_id)
    if stored is None or not await _visible_to(conn, principal, stored):
        return None
    named = await repository.helpers(conn, [question_id])
    return repository.outcome_schema(stored, named.get(question_id, []))


async def may_record(conn: Connection, question_id: UUID) -> bool:
    """Whether the question's outcome can be recorded: one of its requests was accepted."""
    return bool(await repository.accepted_peers(conn, question_id))


async def record(
    conn: Connection,
    embedder: Embedder,
    principal: identity.MemberPrincipal,
    question_id: UUID,
    data: OutcomeWrite,
    *,
    mailing: Mailing | None,
) -> Outcome:
    """Record (or change) what came out of the question's consultations. Only its asker, once
    one of its requests was accepted. Shared, it is embedded now; shared for the first time,
    the colleagues of its accepted requests are asked whether they appear by name."""
    question = await questions_repository.get_question(conn, question_id)
    if question is None:
        raise NotFound(f"No question with id {question_id}.")
    if principal.member_id != question.asker_id:
        raise Forbidden("Only the member who asked the question records its outcome.")
    peers = await repository.accepted_peers(conn, question_id)
    if not peers:
        raise Conflict(
            "Nothing to record yet: none of the question's requests was accepted so far."
        )
    before = await repository.get(conn, question_id)
    await repository.write(conn, question_id, text=data.text, shared=data.shared)
    vectors: Vector | None = None
    if data.shared:
        vectors = await asyncio.to_thread(
            embedder.embed_documents,
            list(repository.passage_texts(question.title, question.body, data.text)),
        )
    await repository.set_passages(conn, question_id, model=embedder.name, vectors=vectors)
    if data.shared and not (before and before.shared) and mailing is not None:
        await _ask_to_be_named(conn, mailing, list(peers.values()))
    outcome = await outcome_of(conn, principal, question_id)
    assert outcome is not None
    return outcome


async def _ask_to_be_named(conn: Connection, mailing: Mailing, request_ids: list[UUID]) -> None:
    for request_id in request_ids:
        found = await requests_repository.get_request(conn, request_id)
        if found is None or found.named or not found.peer.email:
            continue
        page = f"/anfragen/{request_id}/nennung"
        await outbox.enqueue(
            conn,
            member_id=found.peer.id,
            recipient=found.peer.email,
            request_id=request_id,
            kind=messages.NAMED_CHOICE,
            message=memory.named_choice(
                helper_name=found.peer.name,
                asker_name=found.asker.name,
                question_title=found.question_title,
                yes_link=mailing.link(f"{page}?wahl=ja"),
                no_link=mailing.link(f"{page}?wahl=nein"),
            ),
        )


async def set_named(
    conn: Connection, principal: identity.MemberPrincipal, request_id: UUID, named: bool
) -> ConsultationRequest:
    """Whether the colleague of an accepted request appears by name on the question's shared
    outcome (and their advice counts as their expertise in matching). Only that colleague."""
    found = await requests_repository.get_request(conn, request_id)
    if found is None:
        raise NotFound(f"No request with id {request_id}.")
    if found.peer.id != principal.member_id:
        raise Forbidden("Only the colleague who gave the advice chooses whether they are named.")
    if found.status != RequestStatus.accepted:
        raise Conflict("Only the colleague of an accepted request can be named.")
    await repository.set_named(conn, request_id, named)
    updated = await requests_repository.get_request(conn, request_id)
    assert updated is not None
    return request_schema(updated, principal)


async def _scored(
    conn: Connection,
    query: Query,
    nearest: list[UUID],
    *,
    model: str,
    typical: float,
    minimum: float,
    limit: int,
    words: str | None = None,
) -> list[Related]:
    found = await repository.found(conn, nearest, query.vector, model=model, words=words)
    texts = [
        matching.OutcomeText(
            key=item.question.id,
            title=item.question.title,
            body=item.question.body,
            text=item.text,
            tags=item.tags,
            similarities=item.similarities,
        )
        for item in found
    ]
    by_id = {item.question.id: item for item in found}
    scored = matching.score(query, texts, typical=typical, minimum=0.0)
    # Relevant by matching, or (a search) holding every word searched for.
    kept = [
        (by_id[key], value) for key, value in scored if value >= minimum or by_id[key].has_words
    ]
    return await _related(conn, kept[:limit])


async def _related(conn: Connection, found: list[tuple[repository.Found, float]]) -> list[Related]:
    """The found outcomes with their named helpers."""
    if not found:
        return []
    named = await repository.helpers(conn, [UUID(item.question.id) for item, _ in found])
    return [
        Related(
            question=item.question,
            outcome=Outcome(
                question_id=item.question.id,
                text=item.text,
                shared=True,
                updated_at=item.updated_at,
                helpers=named.get(UUID(item.question.id), []),
            ),
            score=score,
        )
        for item, score in found
    ]


async def related(
    conn: Connection, query: Query, nearest: list[UUID], *, model: str, typical: float
) -> list[Related]:
    """Up to ``matching.RELATED_LIMIT`` of the shared outcomes of ``nearest`` (the questions
    ``repository.nearest_outcomes`` found for this one) relevant to the question, best first;
    none where none is relevant."""
    if not nearest:
        return []
    return await _scored(
        conn,
        query,
        nearest,
        model=model,
        typical=typical,
        minimum=matching.RELATED_FROM,
        limit=matching.RELATED_LIMIT,
    )


async def related_to(conn: Connection, embedder: Embedder, question: Question) -> list[Related]:
    """What the network worked out on an earlier question, as its shared outcomes are now (the
    question's own outcome aside). The caller has checked that the question may be seen."""
    vector = (
        await asyncio.to_thread(embedder.embed_queries, [f"{question.title}\n{question.body}"])
    )[0]
    typical = await retrieval.typical_dense(conn, model=embedder.name, query_vector=vector)
    query = Query(
        title=question.title, body=question.body, tags=tuple(question.tags), vector=vector
    )
    nearest = await repository.nearest_outcomes(
        conn, model=embedder.name, query_vector=vector, passages=NEAREST_PASSAGES
    )
    return await related(
        conn,
        query,
        [question_id for question_id in nearest if str(question_id) != question.id],
        model=embedder.name,
        typical=fit.DEFAULT_TYPICAL_DENSE if typical is None else typical,
    )


async def search(
    conn: Connection, embedder: Embedder, text: str | None, *, limit: int
) -> RelatedList:
    """The shared outcomes relevant to ``text``, best first (the same matching as ``related``,
    with a lower bar: fitting at least partly with a probability of ``reaches_from``), and
    those holding every word of it; without a text, the newest."""
    limit = max(1, min(limit, MAX_SEARCH))
    if not text or not text.strip():
        newest = await repository.newest(conn, limit=limit)
        return RelatedList(outcomes=await _related(conn, [(item, 0.0) for item in newest]))
    vector = (await asyncio.to_thread(embedder.embed_queries, [text]))[0]
    typical = await retrieval.typical_dense(conn, model=embedder.name, query_vector=vector)
    query = Query(title=text, body="", tags=(), vector=vector)
    nearest = await repository.nearest_outcomes(
        conn, model=embedder.name, query_vector=vector, passages=SEARCHED
    )
    return RelatedList(
        outcomes=await _scored(
            conn,
            query,
            nearest,
            model=embedder.name,
            typical=fit.DEFAULT_TYPICAL_DENSE if typical is None else typical,
            minimum=fit.FIT_MODEL.reaches_from,
            limit=limit,
            words=text,
        )
    )


async def reembed(conn: Connection, embedder: Embedder, *, batch_size: int = 64) -> int:
    """Embed every shared outcome with ``embedder`` (after the model changed); returns how
    many."""
    shared = await repository.shared_texts(conn)
    for start in range(0, len(shared), batch_size):
        batch = shared[start : start + batch_size]
        vectors = await asyncio.to_thread(
            embedder.embed_documents,
            [text for _, full, alone in batch for text in (full, alone)],
        )
        for index, (question_id, _, _) in enumerate(batch):
            await repository.set_passages(
                conn, question_id, model=embedder.name, vectors=vectors[2 * index : 2 * index + 2]
            )
    return len(shared)


async def remind(conn: Connection, mailing: Mailing) -> int:
    """A week after a request was accepted, one e-mail to its asker asking for what is still
    missing of the feedback and the outcome; returns how many were queued."""
    due = await conn.fetch(repository.DUE_REMINDERS, REMIND_AFTER, REMIND_AFTER + REMIND_WITHIN)
    for row in due:
        found = await requests_repository.get_request(conn, row["id"])
        if found is None or not found.asker.email:
            continue
        await outbox.enqueue(
            conn,
            member_id=found.asker.id,
            recipient=found.asker.email,
            request_id=found.id,
            kind=messages.OUTCOME_REMINDER,
            message=memory.outcome_reminder(
                asker_name=found.asker.name,
                helper_name=found.peer.name,
                question_title=found.question_title,
                feedback_link=None
                if row["has_feedback"]
                else mailing.link(f"/anfragen/{found.id}"),
                outcome_link=None
                if row["has_outcome"]
                else mailing.link(f"/fragen/{found.question_id}#ergebnis"),
            ),
        )
    return len(due)
