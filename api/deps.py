"""Request dependencies, defined once as Annotated aliases: Conn, SettingsDep, EmbedderDep, ...
(who is calling: ``api/auth.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from service import timing
from service.config import Settings
from service.db import Connection, ReadReplica
from service.embedding import Embedder
from service.errors import ServiceUnavailable
from service.notifications.mailing import Mailing

POOL_TIMEOUT_SECONDS = 10


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
