"""What every request passes through before a route sees it (outermost first): the client's
address as a trusted proxy names it, the access log, HEAD and OPTIONS for every path, its body
read whole, and its transaction tried again when PostgreSQL aborted it.

``ForwardedBy`` believes ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from the proxies
in ``PEERCONSULT_TRUSTED_PROXIES`` (Uvicorn's proxy-header handling, inside the application so
that every way of serving it behaves alike). Such headers from any other address are ignored,
and the log says so once: behind a proxy that is not trusted every person seems to come from
the proxy's address, and all of them share one budget of failed sign-ins.

``WholeBody`` reads the body as it arrives, however it is sent (with ``Content-Length`` or in
chunks), and answers 413 as soon as it grows past the limit; a JSON body that cannot be
decoded at all (not UTF-8, an integer of thousands of digits, nesting deeper than a parser
goes) is a 422 problem here, where the framework would answer 400; so is a body in UTF-16 or
UTF-32 or with a byte-order mark, which the framework would take (JSON is UTF-8, RFC 8259).
The body is kept, so that ``RetryAbortedTransactions`` can give it to a route again.

``RetryAbortedTransactions``: under concurrent writes PostgreSQL may abort a transaction to
break a deadlock, or for a serialization failure. Nothing of it was written (a request is one
transaction), so the request is run again, after a short random pause, a few times; if it still
fails the client gets 503 with ``Retry-After``, never a 500, and the connection stays open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import errors
from api.paths import allow_header, allowed_methods, route_template

log = logging.getLogger(__name__)

# Where the body read by WholeBody travels in the request's scope.
BODY = "peerconsult.body"
# A request is run at most this many times when PostgreSQL aborts its transaction.
ATTEMPTS = 4
# The pause before the n-th retry is random up to this many seconds times 2**n.
PAUSE_SECONDS = 0.02


class ForwardedBy:
    def __init__(self, app: ASGIApp, trusted_proxies: str) -> None:
        self.app = app
        trusted = trusted_proxies.strip()
        self.proxied = ProxyHeadersMiddleware(app, trusted_hosts=trusted or [])  # type: ignore[arg-type]
        self.warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.warned and _forwarded(scope):
            client = scope.get("client")
            host = client[0] if client else None
            if host not in self.proxied.trusted_hosts:
                self.warned = True
                log.warning(
                    "requests arrive with X-Forwarded-For from %s, which is not a trusted "
                    "proxy: the header is ignored, so everyone behind it counts as one client. "
                    "Name the proxy in PEERCONSULT_TRUSTED_PROXIES (README: Intranet and TLS).",
                    host or "an unknown address",
                )
        await self.proxied(scope, receive, send)  # type: ignore[arg-type]


def _forwarded(scope: Scope) -> bool:
    return any(name == b"x-forwarded-for" for name, _ in scope.get("headers", []))


_BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class _TooLarge(Exception):
    pass


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def _undecodable(body: bytes) -> str | None:
    """Why a JSON body cannot be decoded at all, or None (syntax errors are left to the
    framework, which says where they are)."""
    if body.startswith(_BYTE_ORDER_MARKS):
        return "The request body starts with a byte-order mark; send UTF-8 without one."
    # UTF-8 JSON never holds a NUL byte (inside a string it is written \u0000), while UTF-16
    # and UTF-32 text, which json.loads would accept from bytes, always does.
    if b"\x00" in body:
        return "The request body is not UTF-8 text."
    try:
        json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "The request body is not UTF-8 text."
    except RecursionError:
        return "The request body nests JSON too deeply."
    except json.JSONDecodeError:
        return None
    except ValueError:  # an integer beyond the digits Python converts
        return "The request body holds a number that is too large."
    return None


class WholeBody:
    def __init__(self, app: ASGIApp, max_bytes: int, pages: errors.Pages | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except _TooLarge:
            request = Request(scope)
            browser = errors.pages_for(self.pages, request)
            response = (
                browser.page(request, 413)
                if browser is not None
                else errors.problem_response(
                    413, f"The request body is larger than {self.max_bytes:,} bytes."
                )
            )
            await response(scope, receive, send)
            return
        if body and _is_json(scope):
            reason = _undecodable(body)
            if reason is not None:
                response = errors.problem_response(
                    422, reason, type_="/problems/invalid-input", title="Invalid input"
                )
                await response(scope, receive, send)
                return
        scope[BODY] = body
        await self.app(scope, replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the whole body once, then waits for the client to go, as the
    server's own does."""
    given = False

    async def receive_again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


class RetryAbortedTransactions:
    def __init__(
        self, app: ASGIApp, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self.app = app
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or BODY not in scope:
            await self.app(scope, receive, send)
            return
        for attempt in range(ATTEMPTS):
            answered = False

            async def watched_send(message: Message) -> None:
                nonlocal answered
                answered = True
                await send(message)

            # Each attempt gets its own copy of the scope, as if the request came anew; the
            # route it found is handed out for the access log.
            attempt_scope = dict(scope)
            try:
                await self.app(attempt_scope, replay(scope[BODY], receive), watched_send)
                return
            except asyncpg.exceptions.TransactionRollbackError as exc:
                if answered:
                    raise
                log.warning(
                    "%s %s: transaction aborted (%s), attempt %d of %d",
                    scope["method"],
                    route_template(attempt_scope),
                    type(exc).__name__,
                    attempt + 1,
                    ATTEMPTS,
                )
            finally:
                if "route" in attempt_scope:
                    scope["route"] = attempt_scope["route"]
            if attempt + 1 < ATTEMPTS:
                await self._sleep(random.uniform(0, PAUSE_SECONDS * 2**attempt))
        response = errors.problem_response(
            503,
            "The database could not complete the request because of concurrent changes; "
            "please try again.",
            type_="/problems/busy",
            title="Service busy",
            headers={"Retry-After": "1"},
        )
        await response(scope, receive, send)


class MethodsOfPath:
    """HEAD wherever GET is (the GET's headers without its body), and OPTIONS answered with the
    methods of the path (``Allow``), for paths that exist. A path's routes are one per method,
    so the framework's own answers knew only one of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope)
        if scope["method"] == "OPTIONS" and methods:
            response = Response(status_code=204, headers={"Allow": allow_header(methods)})
            await response(scope, receive, send)
            return
        if scope["method"] == "HEAD" and "GET" in methods:

            async def without_body(message: Message) -> None:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)

            await self.app({**scope, "method": "GET"}, receive, without_body)
            return
        await self.app(scope, receive, send)
