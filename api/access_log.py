"""An access log without personal data: method, route template, status, duration and the
stages measured on the way (``service.timing``), which the response also carries in its
``Server-Timing`` header.

Uvicorn's own access log writes the client's address and the raw path (with ids and query
strings); it is switched off in ``peerconsult serve`` and replaced by this one.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import timing

log = logging.getLogger("peerconsult.access")


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
            route = scope.get("route")
            # The template (/v1/members/{member_id}), never the concrete path.
            path = getattr(route, "path", None) or "(no route)"
            measured = stages.summary()
            log.info(
                "%s %s %d %.1f ms%s",
                scope["method"],
                path,
                status,
                (time.perf_counter() - started) * 1000,
                f" ({measured})" if measured else "",
            )
