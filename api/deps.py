"""Request dependencies, defined once as Annotated aliases: Conn, Principal, Coordinator, ..."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service import auth, throttle, timing
from service.config import Settings
from service.db import Connection, ReadReplica
from service.embedding import Embedder
from service.errors import Forbidden, InvalidToken, NotAuthenticated, ServiceUnavailable
from service.members import service as members_service
from service.notifications.mailing import Mailing

POOL_TIMEOUT_SECONDS = 10

_bearer = HTTPBearer(auto_error=False, description="A member's token, or the coordinator's")


# The two lookups below are ``async`` although they await nothing: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hand-off for reading an attribute on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_embedder(request: Request) -> Embedder:
    embedder: Embedder = request.app.state.embedder
    return embedder


async def get_mailing(request: Request) -> Mailing | None:
    """How e-mail goes out, or None when the service sends none (no PEERCONSULT_SMTP_URL)."""
    mailing: Mailing | None = request.app.state.mailing
    return mailing


async def get_replica(request: Request) -> ReadReplica | None:
    """The read replica, where one is configured (``PEERCONSULT_READ_DATABASE_URL``)."""
    replica: ReadReplica | None = getattr(request.app.state, "replica", None)
    return replica


async def get_sending(mailing: Annotated[Mailing | None, Depends(get_mailing)]) -> Mailing:
    """How e-mail goes out, for a route that exists to send some: 503 when the service sends
    none. Declared after the route's sign-in dependency, so 401 and 403 come first."""
    if mailing is None:
        raise ServiceUnavailable("This server sends no e-mail (PEERCONSULT_SMTP_URL is not set).")
    return mailing


async def connection(request: Request) -> AsyncIterator[Connection]:
    """One connection and one transaction per request: committed when the route returns
    (before the response is sent), rolled back when it raises."""
    pool: asyncpg.Pool = request.app.state.pool
    # A bounded wait: a pool that stays exhausted answers 503, it does not hang the client.
    async with pool.acquire(timeout=POOL_TIMEOUT_SECONDS) as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        except BaseException:
            await transaction.rollback()
            raise
        # Timed: the commit waits for the write-ahead log to reach the disk.
        with timing.stage("commit"):
            await transaction.commit()


Conn = Annotated[Connection, Depends(connection, scope="function")]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MailingDep = Annotated[Mailing | None, Depends(get_mailing)]
Sending = Annotated[Mailing, Depends(get_sending)]
ReplicaDep = Annotated[ReadReplica | None, Depends(get_replica)]


def client_of(request: Request) -> str:
    """The client as the throttle counts it: the address the connection comes from, or behind
    a trusted proxy the one the proxy names (Uvicorn's proxy headers), hashed."""
    return throttle.client_key(request.client.host if request.client else "unknown")


async def count_attempt(request: Request, conn: Connection, settings: Settings) -> None:
    """Count a request anyone may make but nobody should make often (asking for a sign-in
    link, applying) against its client; 429 while the client is blocked."""
    await throttle.count_attempt(
        conn,
        client_of(request),
        limit=settings.auth_failure_limit,
        window_seconds=settings.auth_failure_window_seconds,
    )


async def current_principal(
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> auth.Principal:
    """The coordinator or a member, from the bearer token; 401 without a valid one, 429 for a
    client that has failed too often recently."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated("Send your access token as 'Authorization: Bearer <token>'.")
    client = client_of(request)
    with timing.stage("auth"):
        until = await throttle.blocked_until(conn, client)
        if until is not None:
            raise throttle.too_many_attempts(until)
        principal = await members_service.authenticate(
            conn, credentials.credentials, admin_token=settings.admin_token
        )
    if principal is None:
        # Counted by the error handler, once this request's connection is released.
        raise InvalidToken("The access token is not valid.", client=client)
    return principal


CurrentPrincipal = Annotated[auth.Principal, Depends(current_principal)]


async def current_member(principal: CurrentPrincipal) -> auth.MemberPrincipal:
    if not isinstance(principal, auth.MemberPrincipal):
        raise Forbidden("This needs a member's token; the coordinator has no member profile.")
    return principal


async def coordinator(principal: CurrentPrincipal) -> auth.CoordinatorPrincipal:
    if not isinstance(principal, auth.CoordinatorPrincipal):
        raise Forbidden("Only the network's coordinator may do this.")
    return principal


CurrentMember = Annotated[auth.MemberPrincipal, Depends(current_member)]
Coordinator = Annotated[auth.CoordinatorPrincipal, Depends(coordinator)]
