"""An application that sends e-mail to a real SMTP server on loopback, and reading the mail."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple
from uuid import UUID

import httpx
from fastapi import FastAPI

from api.app import create_app
from service.applications import service as applications_service
from service.embedding import Embedder
from tests.helpers.api import application_payload
from tests.helpers.app import make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.processes import free_port
from tests.helpers.smtp import FROM_QUERY, Mailbox, Received, SmtpServer

# The address members open, as the links in e-mails show it.
PUBLIC_URL = "https://peerconsult.example.org"
SIGN_IN_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}(/anmelden/link/[A-Za-z0-9_\-]+\S*)")
CONFIRM_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}(/mitglied-werden/bestaetigen/[A-Za-z0-9_\-]+)")


class Mailed(NamedTuple):
    """A started application that sends e-mail, an API client of it, and where its mail
    arrives."""

    app: FastAPI
    client: httpx.AsyncClient
    mailbox: Mailbox


@asynccontextmanager
async def mailing_app(
    pool: TransactionPool, embedder: Embedder, **overrides: object
) -> AsyncIterator[tuple[FastAPI, Mailbox]]:
    """A started application whose PEERCONSULT_SMTP_URL points at a real SMTP server, whose
    outbox is checked often, and whose e-mails link under ``PUBLIC_URL``."""
    server = SmtpServer(free_port())
    mailbox = server.start(Mailbox())
    settings = make_settings(
        None,
        smtp_url=f"smtp://127.0.0.1:{server.port}?{FROM_QUERY}&timeout=10",
        public_url=PUBLIC_URL,
        outbox_interval_seconds=0.1,
        **overrides,
    )
    app = create_app(settings, embedder=embedder, pool=pool.as_pool())
    try:
        async with app.router.lifespan_context(app):
            yield app, mailbox
    finally:
        server.stop()


def api_client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://p")


async def wait_for_mail(mailbox: Mailbox, count: int) -> list[Received]:
    """The mail received once there are ``count`` messages (or after 30 s, whatever came)."""
    for _ in range(300):
        if len(mailbox.received) >= count:
            break
        await asyncio.sleep(0.1)
    return mailbox.received


async def settled(mailbox: Mailbox, pool: TransactionPool) -> list[Received]:
    """The mail received once no sign-in link request waits to be looked up and the outbox
    has nothing left to send: what will ever arrive."""
    for _ in range(300):
        waiting = await pool.fetchval(
            "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
            " + (SELECT count(*) FROM sign_in_request)"
        )
        if waiting == 0:
            break
        await asyncio.sleep(0.1)
    return mailbox.received


def mail_to(mailbox: Mailbox, address: str) -> list[Received]:
    return [mail for mail in mailbox.received if address in mail.recipients]


async def confirmed_application(
    client: httpx.AsyncClient, pool: TransactionPool, **fields: Any
) -> str:
    """An application made through the API and confirmed as the applicant confirms it (the
    link is read from the queued e-mail); its id. Needs an app that sends e-mail."""
    payload = application_payload(**fields)
    response = await client.post("/v1/applications", json=payload)
    assert response.status_code == 202, response.text
    body = await pool.fetchval(
        "SELECT body FROM outbox WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1",
        payload["email"],
    )
    link = CONFIRM_LINK.search(body)
    assert link is not None, body
    secret = link.group(1).rsplit("/", 1)[-1]
    async with pool.acquire() as conn:
        assert await applications_service.confirm(conn, secret)
    application_id: UUID = await pool.fetchval(
        "SELECT id FROM application WHERE email = $1", payload["email"]
    )
    return str(application_id)


def link_in(mail: Received, pattern: re.Pattern[str]) -> str:
    """The path of the link ``pattern`` finds in the mail (under ``PUBLIC_URL``)."""
    found = pattern.search(mail.body)
    assert found is not None, mail.body
    return found.group(1)
