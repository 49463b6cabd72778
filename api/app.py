"""The application factory: settings, database pool and embedding model in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import psutil
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits

from api import docs, errors, web
from api.access_log import AccessLog
from api.middleware import ForwardedBy, MethodsOfPath, RetryAbortedTransactions, WholeBody
from api.routes import (
    applications,
    auth,
    health,
    insights,
    members,
    metrics,
    questions,
    requests,
)
from service import db, housekeeping
from service.config import Settings
from service.embedding import Embedder, cpu_count, load_embedder
from service.identity import links
from service.notifications import SmtpSettings, run_sender
from service.notifications.mailing import Mailing

log = logging.getLogger(__name__)

# Where links lead when PEERCONSULT_PUBLIC_URL is not set (`serve` sets it to its address).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    pool: asyncpg.Pool | None = None,
) -> FastAPI:
    """The peerconsult API. ``embedder`` and ``pool`` may be given: tests share one model per
    session, and run an application inside one transaction that they roll back; a given pool
    is neither migrated nor closed here."""
    settings = settings or Settings()

    # A bad PEERCONSULT_SMTP_URL stops start-up here, with a clear message.
    smtp = (
        SmtpSettings.from_url(settings.smtp_url.get_secret_value())
        if settings.smtp_url is not None
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is None:
            url = await asyncio.to_thread(
                db.resolve_database_url, settings.database_url, settings.data_dir
            )
            if settings.migrate_on_start:
                await db.migrate_async(url)
            app.state.pool = await db.create_pool(url, max_size=settings.pool_size)
        else:
            app.state.pool = pool
        # Reads that may lag go to the replica, opened on first use (it may start later).
        app.state.replica = (
            db.ReadReplica(settings.read_database_url, max_size=settings.pool_size)
            if settings.read_database_url
            else None
        )
        threads = settings.embedding_threads or cpu_count()
        # The ranker's numpy work is small: BLAS threads beyond this process's share of the
        # cores only contend with the other workers and with PostgreSQL.
        threadpool_limits(limits=threads, user_api="blas")
        app.state.embedder = embedder or await asyncio.to_thread(
            load_embedder, settings.embedding_model, threads=threads
        )
        await _warn_about_other_models(app)
        log.info(
            "worker %d ready: %.0f MB of memory (the model and the connection pool)",
            os.getpid(),
            psutil.Process().memory_info().rss / 2**20,
        )
        # Indexes an interrupted bulk import set aside are built in the background (one worker
        # builds each; retrieval is exact, and slower, until then).
        restoring = asyncio.create_task(_restore_indexes(app), name="restore-indexes")
        stop = asyncio.Event()
        # Every worker may run a sender: the outbox rows are claimed with SKIP LOCKED.
        sender = (
            asyncio.create_task(
                run_sender(
                    app.state.pool,
                    smtp,
                    interval=settings.outbox_interval_seconds,
                    stop=stop,
                    prepare=lambda pool: links.send_requested_links(pool, app.state.mailing),
                ),
                name="smtp-sender",
            )
            if smtp is not None
            else None
        )
        # Every worker runs the housekeeping loop; one of them at a time does a round.
        keeping = asyncio.create_task(
            housekeeping.run_periodically(
                app.state.pool,
                stop=stop,
                outbox_retention=timedelta(days=settings.outbox_retention_days),
                counts_window_seconds=max(
                    settings.auth_failure_window_seconds, settings.email_request_window_seconds
                ),
            ),
            name="housekeeping",
        )
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
            if app.state.replica is not None:
                await app.state.replica.close()
            if pool is None:
                await app.state.pool.close()

    app = FastAPI(
        title="peerconsult",
        version="1.0",
        summary="Peer consultation matching for municipal participation officers",
        description=(
            "Members of the network describe their expertise; a member asks a consultation "
            "question and gets colleagues from other municipalities who have done exactly this, "
            "with the reasons. Authenticate with `Authorization: Bearer <token>`."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.mailing = (
        Mailing(public_url=settings.public_url or DEFAULT_PUBLIC_URL) if smtp is not None else None
    )
    app.state.embedder = None
    app.state.pool = None
    app.state.replica = None
    # Browsers outside the API get German pages for errors; API clients problem+json.
    pages = web.GermanErrorPages()
    errors.install(app, pages)
    app.include_router(health.router)
    app.include_router(members.router)
    app.include_router(questions.router)
    app.include_router(requests.router)
    app.include_router(auth.router)
    app.include_router(applications.router)
    app.include_router(insights.router)
    if settings.metrics_token is not None:
        app.include_router(metrics.router(settings.metrics_token))
    app.include_router(web.router)
    docs.install(app)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    # Added innermost first: retries of aborted transactions, the body read whole, HEAD and
    # OPTIONS, the access log, the client's address as a trusted proxy names it.
    app.add_middleware(RetryAbortedTransactions)
    app.add_middleware(WholeBody, max_bytes=settings.max_body_bytes, pages=pages)
    app.add_middleware(MethodsOfPath)
    app.add_middleware(AccessLog)
    app.add_middleware(ForwardedBy, trusted_proxies=settings.trusted_proxies)
    return app


async def _restore_indexes(app: FastAPI) -> None:
    from service.members import bulk

    try:
        async with app.state.pool.acquire() as conn:
            built = await bulk.restore_indexes(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("could not build the indexes an interrupted import set aside: %s", exc)
        return
    if built:
        log.info("built the indexes an interrupted import set aside: %s", ", ".join(built))


async def _warn_about_other_models(app: FastAPI) -> None:
    from service.members import repository

    async with app.state.pool.acquire() as conn:
        stale = await repository.members_without_passages(conn, app.state.embedder.name)
    if stale:
        log.warning(
            "%d members have no passages for the model %s; run `peerconsult reindex`",
            len(stale),
            app.state.embedder.name,
        )
