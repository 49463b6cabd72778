"""An access log without personal data: method, route template, status, duration and the
stages measured on the way (``service.timing``), which the response also carries in its
``Server-Timing`` header.

Uvicorn's own access log writes the client's address and the raw path (with ids and query
strings); it is switched off in ``peerconsult serve`` and replaced by this one.
"""

from __future__ import annotations

import logging
import time

import asyncpg
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.paths import route_template
from service import metrics, timing

log = logging.getLogger("peerconsult.access")


def _measure(scope: Scope, route: str, status: int, seconds: float, stages: timing.Stages) -> None:
    """The request in the metrics: its time by route template and status class, the stages
    of a question, and this worker's database connections."""
    metrics.REQUEST_SECONDS.labels(scope["method"], route, metrics.status_class(status)).observe(
        seconds
    )
    for stage, milliseconds in stages.items():
        metrics.STAGE_SECONDS.labels(stage).observe(milliseconds / 1000)
    app = scope.get("app")
    pool = getattr(getattr(app, "state", None), "pool", None)
    if isinstance(pool, asyncpg.Pool):
        metrics.POOL_SIZE.set(pool.get_size())
        metrics.POOL_IN_USE.set(pool.get_size() - pool.get_idle_size())


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        stages, token = timing.start()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if stages:
                    MutableHeaders(scope=message).append("Server-Timing", stages.header())
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            timing.finish(token)
            path = route_template(scope)
            measured = stages.summary()
            _measure(scope, path, status, time.perf_counter() - started, stages)
            log.info(
                "%s %s %d %.1f ms%s",
                scope["method"],
                path,
                status,
                (time.perf_counter() - started) * 1000,
                f" ({measured})" if measured else "",
            )
