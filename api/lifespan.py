"""What a worker holds while it serves: the database pool (and a read replica), the embedding
model, and three background tasks, each started by a function of its own:

* ``start_index_restore``: indexes an interrupted bulk import set aside are built (one worker
  builds each; retrieval is exact, and slower, until then);
* ``start_sender``: the outbox is delivered by SMTP, sign-in links asked for are looked up
  just before (every worker may send: outbox rows are claimed with ``SKIP LOCKED``);
* ``start_housekeeping``: the periodic round (one worker at a time does it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import psutil
from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from service import db, housekeeping
from service.config import Settings
from service.embedding import Embedder, cpu_count, load_embedder
from service.identity import links
from service.members import bulk, expertise_repository
from service.notifications import SmtpSettings, run_sender
from service.notifications.mailing import Mailing

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Given:
    """What a test hands the application instead of making it: the model (one per test
    session), the pool (inside a transaction the test rolls back; neither migrated nor closed
    here)."""

    embedder: Embedder | None = None
    pool: asyncpg.Pool | None = None


def lifespan(
    settings: Settings, smtp: SmtpSettings | None, given: Given
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The application's lifespan: resources opened, background tasks started, and both
    ended again in reverse order."""

    @asynccontextmanager
    async def serving(app: FastAPI) -> AsyncIterator[None]:
        await open_database(app, settings, given.pool)
        await load_model(app, settings, given.embedder)
        stop = asyncio.Event()
        restoring = start_index_restore(app)
        sender = start_sender(app, settings, smtp, stop)
        keeping = start_housekeeping(app, settings, stop)
        try:
            yield
        finally:
            stop.set()
            restoring.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await restoring
            await keeping
            if sender is not None and smtp is not None:
                # A message cut off mid-send stays claimed by nobody and is sent again later.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sender, timeout=smtp.timeout * 3 + 5)
            await close_database(app, owned=given.pool is None)

    return serving


async def open_database(app: FastAPI, settings: Settings, given: asyncpg.Pool | None) -> None:
    """The pool (migrated first, where the settings ask), and the read replica, opened on first
    use (it may start later)."""
    if given is None:
        url = await asyncio.to_thread(
            db.resolve_database_url, settings.database_url, settings.data_dir
        )
        if settings.migrate_on_start:
            await db.migrate_async(url)
        app.state.pool = await db.create_pool(url, max_size=settings.pool_size)
    else:
        app.state.pool = given
    app.state.replica = (
        db.ReadReplica(settings.read_database_url, max_size=settings.pool_size)
        if settings.read_database_url
        else None
    )


async def close_database(app: FastAPI, *, owned: bool) -> None:
    if app.state.replica is not None:
        await app.state.replica.close()
    if owned:
        await app.state.pool.close()


async def load_model(app: FastAPI, settings: Settings, given: Embedder | None) -> None:
    """The embedding model, with this worker's share of the cores; says what it holds."""
    threads = settings.embedding_threads or cpu_count()
    # The ranker's numpy work is small: BLAS threads beyond this process's share of the
    # cores only contend with the other workers and with PostgreSQL.
    threadpool_limits(limits=threads, user_api="blas")
    app.state.embedder = given or await asyncio.to_thread(
        load_embedder, settings.embedding_model, threads=threads
    )
    async with app.state.pool.acquire() as conn:
        stale = await expertise_repository.members_without_passages(conn, app.state.embedder.name)
    if stale:
        log.warning(
            "%d members have no passages for the model %s; run `peerconsult reindex`",
            len(stale),
            app.state.embedder.name,
        )
    log.info(
        "worker %d ready: %.0f MB of memory (the model and the connection pool)",
        os.getpid(),
        psutil.Process().memory_info().rss / 2**20,
    )


def start_index_restore(app: FastAPI) -> asyncio.Task[None]:
    return asyncio.create_task(_restore_indexes(app.state.pool), name="restore-indexes")


async def _restore_indexes(pool: asyncpg.Pool) -> None:
    try:
        async with pool.acquire() as conn:
            built = await bulk.restore_indexes(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("could not build the indexes an interrupted import set aside: %s", exc)
        return
    if built:
        log.info("built the indexes an interrupted import set aside: %s", ", ".join(built))


def start_sender(
    app: FastAPI, settings: Settings, smtp: SmtpSettings | None, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """The e-mail sender, where the service sends e-mail."""
    if smtp is None:
        return None
    mailing: Mailing = app.state.mailing
    return asyncio.create_task(
        run_sender(
            app.state.pool,
            smtp,
            interval=settings.outbox_interval_seconds,
            stop=stop,
            prepare=lambda pool: links.send_requested_links(pool, mailing),
        ),
        name="smtp-sender",
    )


def start_housekeeping(app: FastAPI, settings: Settings, stop: asyncio.Event) -> asyncio.Task[None]:
    return asyncio.create_task(
        housekeeping.run_periodically(
            app.state.pool,
            stop=stop,
            outbox_retention=timedelta(days=settings.outbox_retention_days),
            counts_window_seconds=max(
                settings.auth_failure_window_seconds, settings.email_request_window_seconds
            ),
            mailing=app.state.mailing,
        ),
        name="housekeeping",
    )
