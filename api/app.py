"""The application factory: settings, error handlers, routes and middleware; what a worker
holds while it serves is in ``api/lifespan.py``."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import docs, errors, web
from api.access_log import AccessLog
from api.lifespan import Given, lifespan
from api.middleware import ForwardedBy, MethodsOfPath, RetryAbortedTransactions, WholeBody
from api.routes import (
    applications,
    auth,
    digests,
    health,
    insights,
    members,
    metrics,
    outcomes,
    questions,
    requests,
)
from service.config import Settings
from service.embedding import Embedder
from service.notifications import SmtpSettings
from service.notifications.mailing import Mailing

# Where links lead when PEERCONSULT_PUBLIC_URL is not set (`serve` sets it to its address).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    pool: asyncpg.Pool | None = None,
) -> FastAPI:
    """The peerconsult API and web interface. ``embedder`` and ``pool`` may be given: tests
    share one model per session, and run an application inside one transaction that they roll
    back; a given pool is neither migrated nor closed here."""
    settings = settings or Settings()
    # A bad PEERCONSULT_SMTP_URL stops start-up here, with a clear message.
    smtp = (
        SmtpSettings.from_url(settings.smtp_url.get_secret_value())
        if settings.smtp_url is not None
        else None
    )
    app = FastAPI(
        title="peerconsult",
        version="1.0",
        summary="Peer consultation matching for municipal participation officers",
        description=(
            "Members of the network describe their expertise; a member asks a consultation "
            "question and gets colleagues from other municipalities who have done exactly this, "
            "with the reasons. Authenticate with `Authorization: Bearer <token>`."
        ),
        lifespan=lifespan(settings, smtp, Given(embedder=embedder, pool=pool)),
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
    for routes in (
        health,
        members,
        questions,
        requests,
        auth,
        applications,
        insights,
        digests,
        outcomes,
    ):
        app.include_router(routes.router)
    if settings.metrics_token is not None:
        app.include_router(metrics.router(settings.metrics_token))
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    docs.install(app)
    # Added innermost first: retries of aborted transactions, the body read whole, HEAD and
    # OPTIONS, the access log, the client's address as a trusted proxy names it.
    app.add_middleware(RetryAbortedTransactions)
    app.add_middleware(WholeBody, max_bytes=settings.max_body_bytes, pages=pages)
    app.add_middleware(MethodsOfPath)
    app.add_middleware(AccessLog)
    app.add_middleware(ForwardedBy, trusted_proxies=settings.trusted_proxies)
    return app
