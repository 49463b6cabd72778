"""Consultation requests: invite colleagues, answer invitations, give feedback."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.auth import ApiCaller, CurrentMember
from api.deps import Conn, MailingDep, SettingsDep
from api.errors import problem_responses
from models.requests import (
    ConsultationRequest,
    Direction,
    FeedbackCreate,
    OfferCreate,
    RequestCreate,
)
from service.requests import service as requests_service

router = APIRouter(prefix="/v1", tags=["requests"])


@router.post(
    "/questions/{question_id:uuid}/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=list[ConsultationRequest],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def invite(
    question_id: UUID,
    data: RequestCreate,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    principal: CurrentMember,
) -> list[ConsultationRequest]:
    """Invite colleagues to your question (all or nothing: each must be one who may be
    suggested to you)."""
    return await requests_service.invite(
        conn,
        principal,
        question_id,
        data,
        expiry_days=settings.request_expiry_days,
        mailing=mailing,
    )


@router.post(
    "/questions/{question_id:uuid}/offers",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def offer(
    question_id: UUID,
    data: OfferCreate,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    principal: CurrentMember,
) -> ConsultationRequest:
    """Offer help on an open question; its asker is told and accepts or declines (a request
    of kind "offer"). 422 from the asker's own municipality; 409 when you pause or are at
    capacity, the question is closed, or you offered or were invited already."""
    return await requests_service.offer(
        conn,
        principal,
        question_id,
        data,
        expiry_days=settings.request_expiry_days,
        mailing=mailing,
    )


@router.get(
    "/requests",
    response_model=list[ConsultationRequest],
    responses=problem_responses(401, 403, 422),
)
async def list_requests(
    conn: Conn, principal: CurrentMember, direction: Direction | None = None
) -> list[ConsultationRequest]:
    """Your requests, newest first: incoming (for you to answer: invitations to you, offers of
    help on your questions), outgoing (your invitations and offers), or both."""
    return await requests_service.list_requests(conn, principal, direction)


@router.get(
    "/requests/{request_id:uuid}",
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404),
)
async def get_request(request_id: UUID, conn: Conn, principal: ApiCaller) -> ConsultationRequest:
    """One request (its two parties and the coordinator)."""
    return await requests_service.get_request(conn, principal, request_id)


@router.post(
    "/requests/{request_id:uuid}/accept",
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409),
)
async def accept(
    request_id: UUID,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    principal: CurrentMember,
) -> ConsultationRequest:
    """Accept an invitation (the invited colleague); both now see each other's contact."""
    return await requests_service.accept(
        conn,
        principal,
        request_id,
        mailing=mailing,
    )


@router.post(
    "/requests/{request_id:uuid}/decline",
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409),
)
async def decline(
    request_id: UUID,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    principal: CurrentMember,
) -> ConsultationRequest:
    """Decline an invitation (the invited colleague)."""
    return await requests_service.decline(
        conn,
        principal,
        request_id,
        mailing=mailing,
    )


@router.post(
    "/requests/{request_id:uuid}/withdraw",
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409),
)
async def withdraw(
    request_id: UUID, conn: Conn, principal: CurrentMember, mailing: MailingDep
) -> ConsultationRequest:
    """Withdraw a pending invitation (the asker); the colleague is told by e-mail."""
    return await requests_service.withdraw(conn, principal, request_id, mailing=mailing)


@router.post(
    "/requests/{request_id:uuid}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsultationRequest,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def give_feedback(
    request_id: UUID, data: FeedbackCreate, conn: Conn, principal: CurrentMember
) -> ConsultationRequest:
    """Rate an accepted consultation, 1-5 (the asker, once)."""
    return await requests_service.give_feedback(conn, principal, request_id, data)
