"""``GET /metrics``: the Prometheus text format, for a scraper holding
``PEERCONSULT_METRICS_TOKEN`` (the route exists only when it is set; service/metrics.py says
what is measured)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Metric,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from pydantic import SecretStr

from api.errors import problem_response
from service import metrics
from service.identity import tokens
from service.notifications import outbox


class _Outbox:
    """The outbox's figures, read from the database at this scrape."""

    def __init__(self, waiting: int, failing: int) -> None:
        self.waiting = waiting
        self.failing = failing

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "peerconsult_outbox_messages",
            "E-mail in the outbox not sent yet: waiting, and of them failing (tried and failed)",
            labels=["state"],
        )
        family.add_metric(["waiting"], self.waiting)
        family.add_metric(["failing"], self.failing)
        yield family


def router(token: SecretStr) -> APIRouter:
    """The route, answering only ``Authorization: Bearer <token>``."""
    metrics_router = APIRouter(include_in_schema=False)
    expected = f"Bearer {token.get_secret_value()}"

    @metrics_router.get("/metrics")
    async def scrape(request: Request) -> Response:
        if not tokens.tokens_equal(request.headers.get("authorization", ""), expected):
            return problem_response(
                401,
                "Send the metrics token as 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        async with request.app.state.pool.acquire() as conn:
            waiting, failing = await outbox.waiting_and_failing(
                conn, max_attempts=outbox.MAX_ATTEMPTS
            )
        scraped = CollectorRegistry()
        if metrics.multiprocess():
            # Every worker's samples, added up.
            multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
            body = generate_latest(scraped)
        else:
            body = generate_latest(REGISTRY)
        database = CollectorRegistry()
        database.register(_Outbox(waiting, failing))
        return Response(body + generate_latest(database), media_type=CONTENT_TYPE_LATEST)

    return metrics_router
