"""Getting in, over the API: welcome e-mails, sign-in links, applications. Every e-mail goes
through the outbox to a real SMTP server on loopback, and its link is followed as a member
follows it (the web pages that take a link are the browser's: tests/web/test_joining.py)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.helpers.api import application_payload, assert_problem, create_member, member_payload
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool, rows_mentioning
from tests.helpers.mail import (
    CONFIRM_LINK,
    SIGN_IN_LINK,
    Mailed,
    confirmed_application,
    link_in,
    mail_to,
    settled,
    wait_for_mail,
)
from tests.helpers.web import browser_of, press_button


async def follow_sign_in_link(app: FastAPI, path: str) -> httpx.Response:
    """Open the link in a fresh browser and press its button: the answer to the button."""
    async with browser_of(app) as browser:
        page = await browser.get(path)
        assert page.status_code == 200, page.text
        return await press_button(browser, page)


class TestWelcome:
    async def test_the_welcome_link_signs_the_member_in_once(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, name="Wilma Neu", email="wilma@example.org")
        response = await client.post(f"/v1/members/{member.id}/welcome", headers=COORDINATOR)
        assert response.status_code == 202, response.text
        [welcome] = await wait_for_mail(mailbox, 1)
        assert welcome.recipients == ["wilma@example.org"]
        assert welcome.message["Subject"].startswith("Willkommen bei peerconsult")
        assert "Wilma Neu" in welcome.body
        link = link_in(welcome, SIGN_IN_LINK)
        signed_in = await follow_sign_in_link(app, link)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/profil"
        async with browser_of(app) as browser:
            again = await browser.get(link)
        assert again.status_code == 410
        assert "Dieser Link gilt nicht mehr" in again.text
        shown = await client.get(f"/v1/members/{member.id}", headers=COORDINATOR)
        assert shown.json()["welcomed_at"] is not None
        assert shown.json()["signed_in_at"] is not None

    async def test_no_welcome_for_an_unknown_member(self, mailed: Mailed) -> None:
        _, client, _ = mailed
        response = await client.post(
            "/v1/members/00000000-0000-4000-8000-000000000000/welcome", headers=COORDINATOR
        )
        assert_problem(response, 404)

    async def test_optional_fields_sent_as_null_are_left_out(self, mailed: Mailed) -> None:
        _, client, _ = mailed
        payload = {**member_payload(), "role": None, "tags": None, "languages": None}
        response = await client.post("/v1/members", json=payload, headers=COORDINATOR)
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["role"], body["tags"], body["languages"]) == ("", [], ["de"])


class TestSignInLinks:
    async def test_a_member_asks_for_a_link_and_signs_in_with_it(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        await create_member(client, name="Lena Link", email="lena@example.org")
        response = await client.post("/v1/auth/email-link", json={"email": "Lena@Example.org"})
        assert response.status_code == 202
        [mail] = await wait_for_mail(mailbox, 1)
        assert mail.recipients == ["lena@example.org"]
        assert "15 Minuten" in mail.body
        signed_in = await follow_sign_in_link(app, link_in(mail, SIGN_IN_LINK))
        assert signed_in.status_code == 303

    async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, email="bekannt@example.org")
        known = await client.post("/v1/auth/email-link", json={"email": "bekannt@example.org"})
        unknown = await client.post("/v1/auth/email-link", json={"email": "fremd@example.org"})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        received = await settled(mailbox, db_pool)
        assert [mail.recipients for mail in received] == [["bekannt@example.org"]]

    async def test_eight_requests_for_one_address_send_five_links(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, email="eilig@example.org")
        for _ in range(8):
            response = await client.post("/v1/auth/email-link", json={"email": "eilig@example.org"})
            assert response.status_code == 202
        await settled(mailbox, db_pool)
        assert len(mail_to(mailbox, "eilig@example.org")) == 5

    async def test_a_new_link_ends_the_older_one(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        await create_member(client, email="zweimal@example.org")
        for count in (1, 2):
            await client.post("/v1/auth/email-link", json={"email": "zweimal@example.org"})
            await wait_for_mail(mailbox, count)
        first, second = (link_in(mail, SIGN_IN_LINK) for mail in mailbox.received)
        async with browser_of(app) as browser:
            assert (await browser.get(first)).status_code == 410
            assert (await browser.get(second)).status_code == 200

    async def test_a_new_token_ends_the_links(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, email="dreh@example.org")
        await client.post("/v1/auth/email-link", json={"email": "dreh@example.org"})
        [mail] = await wait_for_mail(mailbox, 1)
        rotated = await client.post(f"/v1/members/{member.id}/token", headers=member.headers)
        assert rotated.status_code == 200, rotated.text
        async with browser_of(app) as browser:
            assert (await browser.get(link_in(mail, SIGN_IN_LINK))).status_code == 410

    async def test_an_address_that_is_none_is_refused(self, mailed: Mailed) -> None:
        _, client, _ = mailed
        response = await client.post("/v1/auth/email-link", json={"email": "keine Adresse"})
        assert_problem(response, 422)


class TestApplications:
    async def test_apply_confirm_approve_welcome_sign_in(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        payload = application_payload(name="Bea Bewerberin", email="bea@example.org")
        response = await client.post("/v1/applications", json=payload)
        assert response.status_code == 202, response.text
        # Unconfirmed, it does not reach the coordinator.
        listed = await client.get("/v1/applications", headers=COORDINATOR)
        assert listed.json()["applications"] == []
        [confirmation] = await wait_for_mail(mailbox, 1)
        assert confirmation.recipients == ["bea@example.org"]
        confirm_path = link_in(confirmation, CONFIRM_LINK)
        async with browser_of(app) as browser:
            page = await browser.get(confirm_path)
            assert page.status_code == 200
            confirmed = await press_button(browser, page)
        assert confirmed.status_code == 200
        [application] = (await client.get("/v1/applications", headers=COORDINATOR)).json()[
            "applications"
        ]
        assert (application["name"], application["status"]) == ("Bea Bewerberin", "pending")
        approved = await client.post(
            f"/v1/applications/{application['id']}/approve", headers=COORDINATOR
        )
        assert approved.status_code == 201, approved.text
        member = approved.json()
        assert (member["name"], member["email"]) == ("Bea Bewerberin", "bea@example.org")
        assert member["expertise"] == payload["expertise"]
        welcome = (await wait_for_mail(mailbox, 2))[1]
        assert welcome.recipients == ["bea@example.org"]
        signed_in = await follow_sign_in_link(app, link_in(welcome, SIGN_IN_LINK))
        assert signed_in.status_code == 303
        again = await client.post(
            f"/v1/applications/{application['id']}/approve", headers=COORDINATOR
        )
        assert_problem(again, 409)

    async def test_a_declined_applicant_is_told_why(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        application_id = await confirmed_application(client, db_pool, email="dora@example.org")
        reason = "Das Netzwerk ist für Beschäftigte von Kommunen gedacht."
        response = await client.post(
            f"/v1/applications/{application_id}/decline",
            json={"reason": reason},
            headers=COORDINATOR,
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "declined"
        received = await settled(mailbox, db_pool)
        told = received[-1]
        assert told.recipients == ["dora@example.org"]
        assert reason in told.body
        assert "Sie" in told.body

    async def test_without_consent_nothing_is_kept(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, _ = mailed
        payload = application_payload(email="ohne@example.org")
        del payload["consent"]
        assert_problem(await client.post("/v1/applications", json=payload), 422)
        payload["consent"] = False
        assert_problem(await client.post("/v1/applications", json=payload), 422)
        assert await db_pool.fetchval("SELECT count(*) FROM application") == 0


class TestErasureOfAnApplicant:
    async def test_a_member_who_applied_leaves_nothing_behind(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        application_id = await confirmed_application(
            client, db_pool, name="Gerda Gegangen", email="gerda.gegangen@example.org"
        )
        approved = await client.post(
            f"/v1/applications/{application_id}/approve", headers=COORDINATOR
        )
        member_id = approved.json()["id"]
        await wait_for_mail(mailbox, 2)
        needles = [member_id, application_id, "Gerda Gegangen", "gerda.gegangen"]
        assert "application" in await rows_mentioning(db_pool, needles)
        erased = await client.delete(f"/v1/members/{member_id}", headers=COORDINATOR)
        assert erased.status_code == 204
        assert await rows_mentioning(db_pool, needles) == {}
