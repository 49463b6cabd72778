"""Digest e-mails on demand: the coordinator's "jetzt senden", and operators who schedule with
cron instead of the built-in schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from api.auth import Coordinator
from api.deps import Conn, Sending
from api.errors import problem_responses
from models.digests import DigestRun, DigestsSent
from service.digests import service as digests_service

router = APIRouter(prefix="/v1/digests", tags=["digests"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DigestsSent,
    responses=problem_responses(401, 403, 422, 503),
)
async def send_digests(
    conn: Conn,
    _: Coordinator,
    sending: Sending,
    body: Annotated[DigestRun | None, Body()] = None,
) -> DigestsSent:
    """Send now the digest of every member with that setting (default weekly) who has
    something new, as the schedule would: once per member and period (coordinator)."""
    frequency = (body or DigestRun()).frequency
    return DigestsSent(members=await digests_service.send_due(conn, sending, frequency))
