"""The workflow's e-mails, end to end: HTTP calls in, mail out of a real SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite
from tests.helpers.app import make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.processes import free_port
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer


@pytest_asyncio.fixture
async def mailed(
    db_pool: TransactionPool, fake_embedder: Embedder
) -> AsyncIterator[tuple[httpx.AsyncClient, Mailbox]]:
    """A client of an app whose PEERCONSULT_SMTP_URL points at a real SMTP server."""
    server = SmtpServer(free_port())
    mailbox = server.start(Mailbox())
    settings = make_settings(smtp_url=f"smtp://127.0.0.1:{server.port}?{FROM_QUERY}&timeout=10")
    app = create_app(settings, embedder=fake_embedder, pool=db_pool.as_pool())
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                yield client, mailbox
    finally:
        server.stop()


async def wait_for_mail(mailbox: Mailbox, count: int) -> None:
    for _ in range(300):
        if len(mailbox.received) >= count:
            return
        await asyncio.sleep(0.1)


class TestWorkflowMail:
    async def test_invitation_and_acceptance_are_mailed(
        self, mailed: tuple[httpx.AsyncClient, Mailbox]
    ) -> None:
        client, mailbox = mailed
        asker = await create_member(
            client, name="Anna Fragend", email="anna@example.org", municipality="Astadt"
        )
        peer = await create_member(
            client,
            name="Paul Antwort",
            email="paul@example.org",
            municipality="Pstadt",
            expertise=EXPERTISE,
        )
        question = await ask(client, asker, **QUESTION)
        response = await invite(client, asker, question, peer.id)
        await wait_for_mail(mailbox, 1)
        [invitation] = mailbox.received
        assert invitation.recipients == ["paul@example.org"]
        assert "Anna Fragend" in invitation.body
        assert "anna@example.org" not in invitation.body  # no contact before acceptance
        request_id = response.json()[0]["id"]
        await client.post(f"/v1/requests/{request_id}/accept", headers=peer.headers)
        await wait_for_mail(mailbox, 3)
        by_recipient = {mail.recipients[0]: mail for mail in mailbox.received[1:]}
        assert set(by_recipient) == {"anna@example.org", "paul@example.org"}
        assert "paul@example.org" in by_recipient["anna@example.org"].body
        assert "anna@example.org" in by_recipient["paul@example.org"].body
