"""Applications for membership: anyone applies; the coordinator decides."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.auth import Coordinator, EmailRequestBudget
from api.deps import Conn, EmbedderDep, Sending
from api.errors import problem_responses
from models.applications import (
    Application,
    ApplicationCreate,
    ApplicationDecline,
    ApplicationList,
    ApplicationStatus,
)
from models.members import Member
from models.signin import Accepted
from service.applications import service as applications_service

router = APIRouter(prefix="/v1/applications", tags=["applications"])

CONFIRM_BY_EMAIL = (
    "Thank you. A link to confirm the e-mail address is on its way to it; the coordinator sees "
    "the application once it is confirmed (within 48 hours, or it is deleted)."
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(413, 422, 429, 503),
)
async def apply(
    data: ApplicationCreate, conn: Conn, _: EmailRequestBudget, sending: Sending
) -> Accepted:
    """Apply for membership (anyone; consent required). The applicant confirms their address
    by a link e-mailed to it."""
    await applications_service.apply(conn, sending, data)
    return Accepted(detail=CONFIRM_BY_EMAIL)


@router.get("", response_model=ApplicationList, responses=problem_responses(401, 403, 422))
async def list_applications(
    conn: Conn, coordinator: Coordinator, status: ApplicationStatus | None = None
) -> ApplicationList:
    """The confirmed applications, oldest first (coordinator)."""
    found = await applications_service.list_applications(conn, coordinator, status)
    return ApplicationList(applications=found)


@router.post(
    "/{application_id:uuid}/approve",
    status_code=status.HTTP_201_CREATED,
    response_model=Member,
    responses=problem_responses(401, 403, 404, 409, 503),
)
async def approve(
    application_id: UUID,
    conn: Conn,
    embedder: EmbedderDep,
    coordinator: Coordinator,
    sending: Sending,
) -> Member:
    """Make the applicant a member; they get a welcome e-mail with a sign-in link
    (coordinator)."""
    return await applications_service.approve(
        conn,
        embedder,
        sending,
        coordinator,
        application_id,
    )


@router.post(
    "/{application_id:uuid}/decline",
    response_model=Application,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 503),
)
async def decline(
    application_id: UUID,
    conn: Conn,
    _: Coordinator,
    sending: Sending,
    data: ApplicationDecline | None = None,
) -> Application:
    """Decline the application; the applicant is told, with the reason if one is given
    (coordinator)."""
    return await applications_service.decline(
        conn,
        sending,
        application_id,
        None if data is None else data.reason,
    )
