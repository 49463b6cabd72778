"""What came out of consultations: recorded by the asker, shared with the network, found by the
next colleague who asks."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import ApiCaller, CurrentMember
from api.deps import Conn, EmbedderDep, MailingDep
from api.errors import problem_responses
from models.common import MAX_SHORT_TEXT
from models.outcomes import NamedUpdate, Outcome, OutcomeWrite, RelatedList
from models.requests import ConsultationRequest
from service.errors import NotFound
from service.outcomes import service as outcomes_service

router = APIRouter(prefix="/v1", tags=["outcomes"])


@router.put(
    "/questions/{question_id:uuid}/outcome",
    response_model=Outcome,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def record_outcome(
    question_id: UUID,
    data: OutcomeWrite,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    principal: CurrentMember,
) -> Outcome:
    """Record what came out of your question's consultation (409 before one of its requests
    was accepted); `shared` makes it visible to every member, and its colleagues are asked
    whether they appear by name."""
    return await outcomes_service.record(
        conn, embedder, principal, question_id, data, mailing=mailing
    )


@router.get(
    "/questions/{question_id:uuid}/outcome",
    response_model=Outcome,
    responses=problem_responses(401, 404),
)
async def get_outcome(question_id: UUID, conn: Conn, principal: ApiCaller) -> Outcome:
    """The question's outcome: for its asker, the colleagues of its accepted requests and the
    coordinator; for every member once shared (404 otherwise, or before one was recorded)."""
    outcome = await outcomes_service.outcome_of(conn, principal, question_id)
    if outcome is None:
        raise NotFound(f"No outcome of question {question_id} that you may see.")
    return outcome


@router.put(
    "/requests/{request_id:uuid}/named",
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def set_named(
    request_id: UUID, data: NamedUpdate, conn: Conn, principal: CurrentMember
) -> ConsultationRequest:
    """Whether you appear by name on the question's shared outcome (the colleague of an
    accepted request; default: not named)."""
    return await outcomes_service.set_named(conn, principal, request_id, data.named)


@router.get("/outcomes", response_model=RelatedList, responses=problem_responses(401, 422))
async def search_outcomes(
    conn: Conn,
    embedder: EmbedderDep,
    _: ApiCaller,
    q: Annotated[str | None, Query(max_length=MAX_SHORT_TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=outcomes_service.MAX_SEARCH)] = 10,
) -> RelatedList:
    """Shared outcomes relevant to `q`, best first, by the same matching as `related`; without
    `q`, the newest."""
    return await outcomes_service.search(conn, embedder, q, limit=limit)
