"""Everyday journeys without surprises: a confirmed change of address, confirmation steps before
declining and withdrawing (and the withdrawal e-mailed), an invitation sent twice by a double
click, a welcome when the coordinator creates a member, states from a list, and the tags a
member typed. E-mail goes to a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.helpers.api import EXPERTISE, QUESTION, ask, assert_problem, create_member, invite
from tests.helpers.app import ADMIN_TOKEN, COORDINATOR
from tests.helpers.database import TransactionPool
from tests.helpers.mail import PUBLIC_URL, Mailed, mail_to, settled, wait_for_mail
from tests.helpers.web import browser_of, csrf_of, post_form, press_button, sign_in, text_of

CONFIRM_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}(/profil/email/bestaetigen/[A-Za-z0-9_\-]+)")


@pytest_asyncio.fixture
async def browser(mailed: Mailed) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(mailed.app) as http:
        yield http


class TestAddressChange:
    async def test_a_members_new_address_waits_for_the_link_and_the_old_one_is_told(
        self, mailed: Mailed, browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, email="alt@example.org")
        await sign_in(browser, member.token)
        page = await browser.get("/profil")
        form = {
            "csrf_token": csrf_of(page.text),
            "name": member.body["name"],
            "email": "neu@example.org",
            "role": "",
            "expertise": member.body["expertise"],
            "tags": member.body["tags"],
            "languages": "de",
            "accepting_requests": "ja",
            "max_open_requests": "3",
        }
        saved = await browser.post("/profil", data=form)
        assert saved.headers["location"] == "/profil?hinweis=email-bestaetigen"
        shown = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert (shown["email"], shown["email_pending"]) == ("alt@example.org", "neu@example.org")
        await settled(mailbox, db_pool)
        [to_new] = mail_to(mailbox, "neu@example.org")
        [to_old] = mail_to(mailbox, "alt@example.org")
        assert "Sie gilt erst, wenn sie mit dem Link bestätigt ist" in to_old.body
        link = CONFIRM_LINK.search(to_new.body)
        assert link is not None, to_new.body
        async with browser_of(app) as elsewhere:
            opened = await elsewhere.get(link.group(1))
            assert opened.status_code == 200
            confirmed = await press_button(elsewhere, opened)
        assert "Ihre neue E-Mail-Adresse gilt" in text_of(confirmed.text)
        shown = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert (shown["email"], shown["email_pending"]) == ("neu@example.org", None)
        await settled(mailbox, db_pool)
        assert any(
            "ist geändert" in mail.message["Subject"]
            for mail in mail_to(mailbox, "alt@example.org")
        )
        async with browser_of(app) as again:
            assert (await again.get(link.group(1))).status_code == 410

    async def test_over_the_api_a_member_waits_and_the_coordinator_applies_at_once(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        member = await create_member(client, email="eins@example.org")
        own = await client.patch(
            f"/v1/members/{member.id}", json={"email": "zwei@example.org"}, headers=member.headers
        )
        assert (own.json()["email"], own.json()["email_pending"]) == (
            "eins@example.org",
            "zwei@example.org",
        )
        by_coordinator = await client.patch(
            f"/v1/members/{member.id}", json={"email": "drei@example.org"}, headers=COORDINATOR
        )
        assert (by_coordinator.json()["email"], by_coordinator.json()["email_pending"]) == (
            "drei@example.org",
            None,
        )
        await settled(mailbox, db_pool)
        for address in ("eins@example.org", "drei@example.org"):
            assert any(
                "Die Koordination des Netzwerks hat" in mail.body
                for mail in mail_to(mailbox, address)
            ), address

    async def test_without_e_mail_a_member_cannot_change_their_address(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        refused = await client.patch(
            f"/v1/members/{member.id}", json={"email": "x@example.org"}, headers=member.headers
        )
        assert "PEERCONSULT_SMTP_URL" in str(assert_problem(refused, 503)["detail"])


class TestAnsweringRequests:
    async def _invited(self, client: httpx.AsyncClient) -> tuple[object, object, str]:
        asker = await create_member(client, name="Anna Asker", municipality="Aachen")
        expert = await create_member(
            client, name="Bernd Berater", email="bernd@bonn.example", municipality="Bonn",
            expertise=EXPERTISE,
        )  # fmt: skip
        question = await ask(client, asker, **QUESTION)
        response = await invite(client, asker, question, expert.id)
        return asker, expert, response.json()[0]["id"]

    async def test_declining_asks_first(self, mailed: Mailed, browser: httpx.AsyncClient) -> None:
        _, client, _ = mailed
        _, expert, request_id = await self._invited(client)
        await sign_in(browser, expert.token)  # type: ignore[attr-defined]
        requests_page = await browser.get("/anfragen")
        assert f'href="/anfragen/{request_id}/ablehnen"' in requests_page.text
        asking = await browser.get(f"/anfragen/{request_id}/ablehnen")
        assert "Anfrage ablehnen?" in text_of(asking.text)
        declined = await press_button(browser, asking, f"/anfragen/{request_id}/ablehnen")
        assert declined.headers["location"] == "/anfragen?hinweis=abgelehnt"

    async def test_a_withdrawal_asks_first_and_reaches_the_colleague(
        self, mailed: Mailed, browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        asker, _, request_id = await self._invited(client)
        await sign_in(browser, asker.token)  # type: ignore[attr-defined]
        asking = await browser.get(f"/anfragen/{request_id}/zurueckziehen")
        assert "Anfrage zurückziehen?" in text_of(asking.text)
        withdrawn = await press_button(browser, asking, f"/anfragen/{request_id}/zurueckziehen")
        assert withdrawn.headers["location"] == "/anfragen?hinweis=zurueckgezogen"
        await settled(mailbox, db_pool)
        subjects = [mail.message["Subject"] for mail in mail_to(mailbox, "bernd@bonn.example")]
        assert any(subject.startswith("Anfrage zurückgezogen") for subject in subjects)

    async def test_an_invitation_sent_twice_invites_once_and_quietly(
        self, mailed: Mailed, browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        asker = await create_member(client, municipality="Aachen")
        expert = await create_member(
            client, email="zweimal@bonn.example", municipality="Bonn", expertise=EXPERTISE
        )
        await sign_in(browser, asker.token)
        asked = await post_form(browser, "/fragen", "/fragen", QUESTION)
        question_page = asked.headers["location"]
        page = await browser.get(question_page)
        form = {"csrf_token": csrf_of(page.text), "member_ids": [expert.id], "message": ""}
        first, second = await asyncio.gather(
            browser.post(f"{question_page}/einladen", data=form),
            browser.post(f"{question_page}/einladen", data=form),
        )
        again = await browser.post(f"{question_page}/einladen", data=form)
        for response in (first, second, again):
            assert response.headers["location"] == "/anfragen?hinweis=eingeladen"
        await settled(mailbox, db_pool)
        assert len(mail_to(mailbox, "zweimal@bonn.example")) == 1


class TestCreatingAMember:
    async def test_a_new_member_gets_the_welcome(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        _, _, mailbox = mailed
        await sign_in(browser, ADMIN_TOKEN)
        created = await post_form(
            browser,
            "/koordination/mitglieder/neu",
            "/koordination/mitglieder",
            {
                "name": "Nora Neu",
                "email": "nora@example.org",
                "municipality_name": "Trier",
                "municipality_state": "RLP",
                "expertise": "Ich baue gerade Bürgerbeteiligung auf.",
                "languages": "de",
                "accepting_requests": "ja",
                "max_open_requests": "3",
                "welcome": "ja",
            },
        )
        assert created.status_code == 200, created.text
        assert "Die Willkommens-E-Mail mit dem Anmeldelink ist an nora@example.org unterwegs" in (
            text_of(created.text)
        )
        [welcome] = await wait_for_mail(mailbox, 1)
        assert welcome.recipients == ["nora@example.org"]
        assert "desto besser finden die anderen Sie" in welcome.body


class TestStates:
    async def test_abbreviations_are_written_out_and_anything_else_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, state="RLP")
        assert member.body["municipality"]["state"] == "Rheinland-Pfalz"
        for written in ("NRW", "nordrhein-westfalen", "DE-NW"):
            again = await create_member(client, state=written)
            assert again.body["municipality"]["state"] == "Nordrhein-Westfalen"
        refused = await client.post(
            "/v1/members",
            json={
                "name": "X",
                "email": "x@example.org",
                "municipality": {"name": "Mainz", "state": "Rheinland"},
                "expertise": "Y",
            },
            headers=COORDINATOR,
        )
        body = assert_problem(refused, 422)
        assert "Rheinland-Pfalz" in str(body["errors"]) and "Zürich" in str(body["errors"])
