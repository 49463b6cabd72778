"""The coordinator's view of the network: gaps, topics, request flow, reach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import Coordinator
from api.deps import Conn, EmbedderDep, Sending
from api.errors import problem_responses
from models.insights import GapContactRequest, GapContactResult, Insights
from service.errors import Unprocessable
from service.insights import service as insights_service

router = APIRouter(prefix="/v1/insights", tags=["insights"])


def _in_utc(name: str, moment: datetime | None) -> datetime | None:
    """The time in UTC (one without a zone is UTC, as the API gives times); 422 for a time
    that has none in UTC (``0001-01-01T00:00:00+14:00`` is before the first year)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Unprocessable(f"'{name}' is out of range: give a time from year 1 to 9999.") from None


@router.get("", response_model=Insights, responses=problem_responses(401, 403, 422))
async def insights(
    conn: Conn,
    embedder: EmbedderDep,
    coordinator: Coordinator,
    since: Annotated[
        datetime | None, Query(description="Questions and invitations from (ISO 8601)")
    ] = None,
    until: Annotated[datetime | None, Query(description="… until before (ISO 8601)")] = None,
) -> Insights:
    """Which topics the network could not answer well, demand and supply by topic, how
    invitations flow, and who is reachable (coordinator)."""
    since, until = _in_utc("since", since), _in_utc("until", until)
    if since is not None and until is not None and since >= until:
        raise Unprocessable("'since' must be before 'until'.")
    return await insights_service.insights(conn, embedder, coordinator, since=since, until=until)


@router.post(
    "/gaps/contacts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GapContactResult,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def contact_closest(
    body: GapContactRequest, conn: Conn, coordinator: Coordinator, sending: Sending
) -> GapContactResult:
    """Write to colleagues about gap questions: whether they can help, or extend their profile
    (coordinator). The e-mail names the topic and the questions' titles, not who asked them."""
    return await insights_service.contact_closest(conn, sending, coordinator, body)
