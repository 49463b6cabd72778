"""Asking for a sign-in link does the same work for every address: the address is queued, and
the e-mail sender looks it up behind the outbox (service/identity/links.py)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from service.identity import links
from service.notifications.mailing import Mailing
from tests.helpers.api import create_member
from tests.helpers.database import TransactionPool
from tests.helpers.web import press_button

PUBLIC_URL = "https://peerconsult.example.org"


async def written(db_pool: TransactionPool) -> tuple[int, int, int]:
    """Requests queued, links made, e-mails in the outbox."""
    record = await db_pool.fetchrow(
        "SELECT (SELECT count(*) FROM sign_in_request) AS queued,"
        " (SELECT count(*) FROM sign_in_link) AS links, (SELECT count(*) FROM outbox) AS mail"
    )
    assert record is not None
    return record["queued"], record["links"], record["mail"]


class TestLinkRequests:
    async def test_the_answer_looks_nothing_up_and_the_sender_does(
        self, app: FastAPI, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        # This application sends no e-mail by itself (no SMTP server, so no sender runs); it
        # only pretends to, so that the route takes requests.
        app.state.mailing = Mailing(public_url=PUBLIC_URL)
        await create_member(client, email="bekannt@example.org")
        known = await client.post("/v1/auth/email-link", json={"email": "bekannt@example.org"})
        unknown = await client.post("/v1/auth/email-link", json={"email": "fremd@example.org"})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert await written(db_pool) == (2, 0, 0)
        taken = await links.send_requested_links(db_pool.as_pool(), app.state.mailing)
        assert taken == 2
        assert await written(db_pool) == (0, 1, 1)
        recipient = await db_pool.fetchval("SELECT recipient FROM outbox")
        assert recipient == "bekannt@example.org"

    async def test_a_nul_in_the_sign_in_forms_address_is_refused(
        self, app: FastAPI, browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        app.state.mailing = Mailing(public_url=PUBLIC_URL)
        page = await browser.get("/anmelden")
        response = await press_button(browser, page, "/anmelden/link", email="a\x00@example.org")
        assert response.status_code == 422
        assert await db_pool.fetchval("SELECT count(*) FROM sign_in_request") == 0
