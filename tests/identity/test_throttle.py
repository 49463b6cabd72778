"""Limits that are fair: a meeting room on one address signs in together; wrong guesses are
limited per client, and never keep a valid credential out (service/identity/throttle.py)."""

from __future__ import annotations

import asyncio

from tests.helpers.api import application_payload, assert_problem, create_member
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool
from tests.helpers.mail import SIGN_IN_LINK, Mailed, link_in, mail_to, wait_for_mail
from tests.helpers.web import browser_of, press_button

MEETING = 40


class TestMeetingRoom:
    async def test_forty_colleagues_on_one_address_all_get_in_by_their_links(
        self, mailed: Mailed
    ) -> None:
        app, client, mailbox = mailed
        members = [
            await create_member(client, email=f"treffen{n}@example.org") for n in range(MEETING)
        ]
        signed_in_before = members[0]
        for member in members:
            # Everyone asks at once from the meeting's one address ...
            asked = await client.post("/v1/auth/email-link", json={"email": member.body["email"]})
            assert asked.status_code == 202, asked.text
            # ... while colleagues signed in from there go on working, and so does the
            # coordinator.
            me = await client.get("/v1/members/me", headers=signed_in_before.headers)
            assert me.status_code == 200
            assert (await client.get("/v1/tags", headers=COORDINATOR)).status_code == 200
        await wait_for_mail(mailbox, MEETING)
        for member in members:
            [mail] = mail_to(mailbox, member.body["email"])
            async with browser_of(app) as browser:
                page = await browser.get(link_in(mail, SIGN_IN_LINK))
                assert page.status_code == 200, page.text
                signed_in = await press_button(browser, page)
                assert signed_in.status_code == 303
                assert (await browser.get("/profil")).status_code == 200

    async def test_link_requests_never_count_as_failed_sign_ins(self, mailed: Mailed) -> None:
        app, client, _ = mailed
        member = await create_member(client)
        limit = app.state.settings.auth_failure_limit
        for n in range(limit * 3):
            response = await client.post(
                "/v1/auth/email-link", json={"email": f"unbekannt{n}@example.org"}
            )
            assert response.status_code == 202
        assert_problem(
            await client.get("/v1/members/me", headers={"Authorization": "Bearer pc_falsch"}), 401
        )
        assert (await client.get("/v1/members/me", headers=member.headers)).status_code == 200

    async def test_a_flood_of_link_requests_from_one_client_is_limited(
        self, mailed: Mailed
    ) -> None:
        app, client, _ = mailed
        budget = app.state.settings.email_request_limit
        statuses = await asyncio.gather(
            *(
                client.post("/v1/auth/email-link", json={"email": f"flut{n}@example.org"})
                for n in range(budget + 3)
            )
        )
        codes = [response.status_code for response in statuses]
        assert codes.count(202) == budget
        assert codes.count(429) == 3
        refused = next(response for response in statuses if response.status_code == 429)
        assert int(refused.headers["Retry-After"]) > 0


class TestWrongGuesses:
    async def test_thirty_wrong_tokens_mostly_429_while_valid_ones_work(
        self, mailed: Mailed
    ) -> None:
        _, client, _ = mailed
        member = await create_member(client)
        wrong = {"Authorization": "Bearer pc_geraten"}
        codes = []
        for _ in range(30):
            codes.append((await client.get("/v1/members/me", headers=wrong)).status_code)
            assert (await client.get("/v1/members/me", headers=member.headers)).status_code == 200
            assert (await client.get("/v1/tags", headers=COORDINATOR)).status_code == 200
        assert codes.count(429) > 15 and set(codes) == {401, 429}

    async def test_links_that_do_not_work_count_as_wrong_guesses(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, email="echt@example.org")
        async with browser_of(app) as browser:
            codes = [
                (await browser.get(f"/anmelden/link/geraten{n}")).status_code
                for n in range(app.state.settings.auth_failure_limit + 2)
            ]
            assert codes[0] == 410 and codes[-1] == 429
            await client.post("/v1/auth/email-link", json={"email": "echt@example.org"})
            [mail] = await wait_for_mail(mailbox, 1)
            page = await browser.get(link_in(mail, SIGN_IN_LINK))
            assert page.status_code == 200
            assert (await press_button(browser, page)).status_code == 303
        assert (await client.get("/v1/members/me", headers=member.headers)).status_code == 200


class TestApplications:
    async def test_one_address_gets_three_confirmations_at_most(
        self, mailed: Mailed, db_pool: TransactionPool
    ) -> None:
        _, client, _ = mailed
        payload = application_payload(email="viele@example.org")
        for _ in range(5):
            assert (await client.post("/v1/applications", json=payload)).status_code == 202
        sent = await db_pool.fetchval(
            "SELECT count(*) FROM outbox WHERE recipient = 'viele@example.org'"
        )
        assert sent == 3
