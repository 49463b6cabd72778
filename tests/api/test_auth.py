"""Signing in by a link e-mailed to the member, over the API (api/routes/auth.py). Every e-mail
goes through the outbox to a real SMTP server on loopback, and its link is followed as a member
follows it."""

from __future__ import annotations

from tests.helpers.api import assert_problem, create_member
from tests.helpers.database import TransactionPool
from tests.helpers.mail import (
    SIGN_IN_LINK,
    Mailed,
    link_in,
    mail_to,
    settled,
    wait_for_mail,
)
from tests.helpers.web import browser_of, follow_sign_in_link


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
