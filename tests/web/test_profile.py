"""Mein Profil (api/web/routes/profile.py): the profile as a form, German messages beside the
fields, and a new e-mail address that waits for the link sent to it."""

from __future__ import annotations

import re

import httpx

from api.web.auth import CSRF_FIELD
from tests.helpers.api import (
    assert_problem,
    create_member,
)
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool
from tests.helpers.mail import PUBLIC_URL, Mailed, mail_to, settled
from tests.helpers.web import (
    browser_of,
    csrf_of,
    post_form,
    press_button,
    sign_in,
    text_of,
)


class TestProfile:
    async def test_shows_the_profile_and_the_vocabulary(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, tags=["Losverfahren"], municipality="Köln")
        member = await create_member(client, tags=["Bürgerrat"])
        await sign_in(browser, member.token)
        page = await browser.get("/profil")
        assert page.status_code == 200
        assert '<datalist id="schlagwort-vorschlaege">' in page.text
        assert '<option value="Losverfahren">' in page.text
        assert 'value="Bürgerrat"' in page.text
        assert 'id="accepting_requests" name="accepting_requests" value="ja" checked' in page.text

    async def test_saves_through_the_service(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser,
            "/profil",
            "/profil",
            {
                "name": "Anna Neu",
                "email": member.body["email"],
                "role": "Referentin",
                "expertise": "Ich begleite Jugendforen und Kinderparlamente.",
                "tags": ["Jugendbeteiligung", "", "Kinderparlament"],
                "languages": "de, en",
                "max_open_requests": "5",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/profil?hinweis=profil"
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["name"] == "Anna Neu"
        assert profile["tags"] == ["Jugendbeteiligung", "Kinderparlament"]
        assert profile["languages"] == ["de", "en"]
        assert profile["accepting_requests"] is False  # the unchecked pause switch
        assert profile["max_open_requests"] == 5
        page = await browser.get(response.headers["location"])
        assert "Ihr Profil ist gespeichert." in page.text

    async def test_german_validation_messages_next_to_the_fields(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser,
            "/profil",
            "/profil",
            {
                "name": "Anna",
                "email": "keine-adresse",
                "expertise": " ",
                "languages": "deutsch",
                "accepting_requests": "ja",
                "max_open_requests": "-1",
                "tags": ["x" * 61],
            },
        )
        assert response.status_code == 422
        text = text_of(response.text)
        assert "Bitte prüfen Sie Ihre Eingaben" in text
        assert "Bitte geben Sie eine gültige E-Mail-Adresse an" in text
        assert "Bitte füllen Sie dieses Feld aus." in text
        assert "„deutsch“ ist kein Sprachkürzel" in text
        assert "Bitte geben Sie mindestens 0 an." in text
        assert "Schlagwort 1: Bitte fassen Sie sich kürzer: höchstens 60 Zeichen." in text
        assert 'id="expertise-fehler"' in response.text
        described = "expertise-hinweis expertise-zaehler expertise-fehler"
        assert f'aria-describedby="{described}" aria-invalid="true"' in response.text
        # What was typed is kept.
        assert 'value="keine-adresse"' in response.text
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["email"] == member.body["email"]

    async def test_taken_email_is_a_friendly_message(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, email="vergeben@example.org")
        member = await create_member(client)
        await sign_in(browser, member.token)
        page = await browser.get("/profil")
        form = {
            "name": member.body["name"],
            "email": "vergeben@example.org",
            "expertise": member.body["expertise"],
            "languages": "de",
            "accepting_requests": "ja",
            "max_open_requests": "3",
        }
        response = await browser.post("/profil", data={CSRF_FIELD: csrf_of(page.text), **form})
        assert response.status_code == 409
        assert "Es gibt schon ein Mitglied mit der E-Mail-Adresse vergeben@example.org." in (
            text_of(response.text)
        )


CONFIRM_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}(/profil/email/bestaetigen/[A-Za-z0-9_\-]+)")


class TestAddressChange:
    async def test_a_members_new_address_waits_for_the_link_and_the_old_one_is_told(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, email="alt@example.org")
        await sign_in(mailed_browser, member.token)
        page = await mailed_browser.get("/profil")
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
        saved = await mailed_browser.post("/profil", data=form)
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
