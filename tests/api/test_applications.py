"""Applying for membership over the API (api/routes/applications.py): apply, confirm by link,
approval with a welcome, a decline with its reason, and what erasure leaves."""

from __future__ import annotations

from tests.helpers.api import application_payload, assert_problem
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool, rows_mentioning
from tests.helpers.mail import (
    CONFIRM_LINK,
    SIGN_IN_LINK,
    Mailed,
    confirmed_application,
    link_in,
    settled,
    wait_for_mail,
)
from tests.helpers.web import browser_of, follow_sign_in_link, press_button


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
