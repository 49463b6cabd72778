"""The coordinator's view of the network: gaps, topics, request flow, reach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Conn, Coordinator, EmbedderDep
from api.errors import problem_responses
from models.insights import Insights
from service.errors import Unprocessable
from service.insights import service as insights_service

router = APIRouter(prefix="/v1/insights", tags=["insights"])


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is UTC, as the API gives times."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


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
    since, until = _aware(since), _aware(until)
    if since is not None and until is not None and since >= until:
        raise Unprocessable("'since' must be before 'until'.")
    return await insights_service.insights(conn, embedder, coordinator, since=since, until=until)
