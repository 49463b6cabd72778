"""An access log without personal data: method, route template, status and duration.

Uvicorn's own access log writes the client's address and the raw path (with ids and query
strings); it is switched off in ``peerconsult serve`` and replaced by this one.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            # The template (/v1/members/{member_id}), never the concrete path.
            path = getattr(route, "path", None) or "(no route)"
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                path,
                status,
                (time.perf_counter() - started) * 1000,
            )
