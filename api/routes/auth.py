"""Signing in by a link e-mailed to the member (for API clients as for the sign-in page)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import EmailRequestBudget
from api.deps import Conn, Sending
from api.errors import problem_responses
from models.signin import Accepted, EmailLinkRequest
from service.identity import links

router = APIRouter(prefix="/v1/auth", tags=["sign-in"])

LINK_ON_ITS_WAY = (
    "If the address belongs to a member, a sign-in link is on its way to it; it works once, "
    "for 15 minutes."
)


@router.post(
    "/email-link",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(413, 422, 429, 503),
)
async def email_link(
    data: EmailLinkRequest, conn: Conn, _: EmailRequestBudget, sending: Sending
) -> Accepted:
    """E-mail a sign-in link to a member (anyone may ask; the answer is the same, in the
    same time, whether the address is a member's, and nothing is sent to one that is not)."""
    await links.request_link(conn, data.email)
    return Accepted(detail=LINK_ON_ITS_WAY)
