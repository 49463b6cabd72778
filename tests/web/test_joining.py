"""Getting in, in the browser: sign-in links from /anmelden, the welcome button, applying at
/mitglied-werden and deciding at /koordination/bewerbungen, signing out everywhere, and a
question's text kept across a session that ended. E-mail goes to a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from api.web.auth import CSRF_FIELD
from tests.helpers.api import create_member
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.database import TransactionPool
from tests.helpers.mail import (
    CONFIRM_LINK,
    SIGN_IN_LINK,
    Mailed,
    link_in,
    mail_to,
    settled,
    wait_for_mail,
)
from tests.helpers.web import browser_of, csrf_of, post_form, press_button, sign_in, text_of


@pytest_asyncio.fixture
async def browser(
    mailed: Mailed,
) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(mailed.app) as http:
        yield http


async def ask_for_link(browser: httpx.AsyncClient, email: str, page: str = "/anmelden") -> str:
    """Ask for a sign-in link on the sign-in page; the text of the page that answers."""
    response = await press_button(browser, await browser.get(page), "/anmelden/link", email=email)
    assert response.status_code == 200, response.text
    return text_of(response.text)


class TestSignInByLink:
    async def test_a_member_asks_on_the_sign_in_page_and_signs_in(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, name="Lotte Link", email="lotte@example.org")
        page = await browser.get("/anmelden")
        assert "Anmeldelink per E-Mail" in page.text
        assert 'name="email"' in page.text
        said = await ask_for_link(browser, "lotte@example.org")
        assert "lotte@example.org" in said
        [mail] = await wait_for_mail(mailbox, 1)
        link_page = await browser.get(link_in(mail, SIGN_IN_LINK))
        # Opening the link signs nobody in (a mail scanner may fetch it); the button does.
        assert (await browser.get("/profil")).status_code == 303
        signed_in = await press_button(browser, link_page)
        assert signed_in.status_code == 303
        profile = await browser.get("/profil")
        assert profile.status_code == 200
        assert "Lotte Link" in profile.text

    async def test_an_unknown_address_reads_the_same_and_gets_nothing(
        self,
        mailed: Mailed,
        browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, email="mitglied@example.org")
        known = await ask_for_link(browser, "mitglied@example.org")
        unknown = await ask_for_link(browser, "niemand@example.org")
        assert known.replace("mitglied@", "niemand@") == unknown
        await settled(mailbox, db_pool)
        assert mail_to(mailbox, "niemand@example.org") == []
        assert len(mail_to(mailbox, "mitglied@example.org")) == 1

    async def test_the_invitation_link_leads_a_signed_out_member_to_the_request(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        _, client, mailbox = mailed
        asker = await create_member(client, email="fragt@example.org", municipality="Astadt")
        peer = await create_member(client, email="kann@example.org", municipality="Bstadt")
        question = await client.post(
            "/v1/questions", json={"title": "Jugendforum", "body": "Wie?"}, headers=asker.headers
        )
        invited = await client.post(
            f"/v1/questions/{question.json()['id']}/requests",
            json={"member_ids": [peer.id]},
            headers=asker.headers,
        )
        request_id = invited.json()[0]["id"]
        [invitation] = await wait_for_mail(mailbox, 1)
        link_to_invitation = f"/anfragen/{request_id}"
        assert f"{link_to_invitation}\n" in invitation.body
        # Signed out, the link sends the member to sign in, and back to the invitation
        # afterwards: a path (a #fragment would not survive the sign-in page).
        opened = await browser.get(link_to_invitation)
        assert opened.headers["location"] == f"/anmelden?weiter=%2Fanfragen%2F{request_id}"
        await ask_for_link(browser, "kann@example.org", page=opened.headers["location"])
        link = link_in((await wait_for_mail(mailbox, 2))[1], SIGN_IN_LINK)
        assert f"weiter=%2Fanfragen%2F{request_id}" in link
        signed_in = await press_button(browser, await browser.get(link))
        assert signed_in.headers["location"] == link_to_invitation
        at_the_invitation = await browser.get(link_to_invitation)
        assert at_the_invitation.headers["location"] == f"/anfragen#anfrage-{request_id}"
        requests_page = await browser.get("/anfragen")
        assert f'id="anfrage-{request_id}"' in requests_page.text


class TestWelcomeButton:
    async def test_the_coordinator_welcomes_a_member_from_their_page(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, name="Nora Neu", email="nora@example.org")
        await sign_in(browser, ADMIN_TOKEN)
        page = f"/koordination/mitglieder/{member.id}"
        before = text_of((await browser.get(page)).text)
        assert "Noch nie im Browser angemeldet." in before
        assert "Willkommens-E-Mail verschickt" not in before
        sent = await post_form(browser, page, f"{page}/willkommen", {})
        assert sent.status_code == 303
        after = text_of((await browser.get(sent.headers["location"])).text)
        assert "Willkommens-E-Mail verschickt am" in after
        [welcome] = await wait_for_mail(mailbox, 1)
        assert welcome.recipients == ["nora@example.org"]
        async with browser_of(app) as member_browser:
            link_page = await member_browser.get(link_in(welcome, SIGN_IN_LINK))
            assert (await press_button(member_browser, link_page)).headers["location"] == (
                "/profil"
            )
        assert "Zuletzt angemeldet am" in text_of((await browser.get(page)).text)


APPLICATION = {
    "name": "Anton Antrag",
    "email": "anton@example.org",
    "municipality_name": "Neudorf",
    "municipality_state": "Sachsen",
    "municipality_kind": "Gemeinde",
    "role": "Beteiligungsbeauftragter",
    "expertise": "Ich habe einen Jugendrat gegründet und begleite ihn seit drei Jahren.",
    "tags": ["Jugendbeteiligung"],
    "languages": "de",
    "message": "Ich würde gern mitmachen.",
    "consent": "ja",
}


class TestApplying:
    async def test_apply_confirm_and_be_approved(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        app, _, mailbox = mailed
        form = await browser.get("/mitglied-werden")
        assert form.status_code == 200
        assert "48 Stunden" in text_of(form.text) and "30 Tage" in text_of(form.text)
        sent = await post_form(browser, "/mitglied-werden", "/mitglied-werden", APPLICATION)
        assert sent.status_code == 200
        assert "anton@example.org" in text_of(sent.text)
        [confirmation] = await wait_for_mail(mailbox, 1)
        confirm_page = await browser.get(link_in(confirmation, CONFIRM_LINK))
        confirmed = await press_button(browser, confirm_page)
        assert "Ihre Adresse ist bestätigt" in text_of(confirmed.text)
        async with browser_of(app) as coordinator:
            await sign_in(coordinator, ADMIN_TOKEN)
            overview = text_of((await coordinator.get("/koordination")).text)
            assert "Bewerbung" in overview
            listing = await coordinator.get("/koordination/bewerbungen")
            assert "Anton Antrag" in text_of(listing.text)
            assert "Jugendrat" in listing.text
            action = next(
                part.split('"')[0]
                for part in listing.text.split('action="')
                if part.split('"')[0].endswith("/aufnehmen")
            )
            approved = await press_button(coordinator, listing, action)
            assert approved.status_code == 303
            decided = text_of((await coordinator.get(approved.headers["location"])).text)
            assert "Anton Antrag (Neudorf): aufgenommen" in decided
        welcome = (await wait_for_mail(mailbox, 2))[1]
        assert welcome.recipients == ["anton@example.org"]
        link_page = await browser.get(link_in(welcome, SIGN_IN_LINK))
        await press_button(browser, link_page)
        profile = await browser.get("/profil")
        assert "Jugendrat" in profile.text

    async def test_a_declined_applicant_gets_the_reason(
        self,
        mailed: Mailed,
        browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        app, _, mailbox = mailed
        await post_form(browser, "/mitglied-werden", "/mitglied-werden", APPLICATION)
        [confirmation] = await wait_for_mail(mailbox, 1)
        await press_button(browser, await browser.get(link_in(confirmation, CONFIRM_LINK)))
        reason = "Bitte bewerben Sie sich über Ihre Kommune neu."
        async with browser_of(app) as coordinator:
            await sign_in(coordinator, ADMIN_TOKEN)
            listing = await coordinator.get("/koordination/bewerbungen")
            action = next(
                part.split('"')[0]
                for part in listing.text.split('action="')
                if part.split('"')[0].endswith("/ablehnen")
            )
            declined = await post_form(
                coordinator, "/koordination/bewerbungen", action, {"reason": reason}
            )
            assert declined.status_code == 303
            after = await coordinator.get(declined.headers["location"])
            assert "Anton Antrag" not in text_of(after.text).split("Entschieden")[0]
        told = (await settled(mailbox, db_pool))[-1]
        assert told.recipients == ["anton@example.org"]
        assert reason in told.body

    async def test_a_robot_filling_the_hidden_field_keeps_nothing(
        self,
        mailed: Mailed,
        browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        _, _, mailbox = mailed
        answer = await post_form(
            browser, "/mitglied-werden", "/mitglied-werden", {**APPLICATION, "website": "x"}
        )
        assert answer.status_code == 200
        assert await db_pool.fetchval("SELECT count(*) FROM application") == 0
        assert await settled(mailbox, db_pool) == []

    async def test_without_consent_the_form_asks_for_it_and_keeps_the_rest(
        self,
        mailed: Mailed,
        browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        without = {key: value for key, value in APPLICATION.items() if key != "consent"}
        answer = await post_form(browser, "/mitglied-werden", "/mitglied-werden", without)
        assert answer.status_code == 422
        assert "Einwilligung" in text_of(answer.text)
        assert "Jugendrat gegründet" in answer.text
        assert await db_pool.fetchval("SELECT count(*) FROM application") == 0


class TestSessions:
    async def test_signing_out_everywhere_ends_the_other_devices_session(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        app, client, _ = mailed
        member = await create_member(client)
        await sign_in(browser, member.token)
        async with browser_of(app) as laptop:
            await sign_in(laptop, member.token)
            assert (await laptop.get("/profil")).status_code == 200
            ended = await post_form(browser, "/profil", "/abmelden/ueberall", {})
            assert ended.headers["location"] == "/anmelden?hinweis=ueberall-abgemeldet"
            assert (await laptop.get("/profil")).status_code == 303
        assert (await browser.get("/profil")).status_code == 303
        # The token itself still signs in: only the sessions ended.
        assert (await sign_in(browser, member.token)).status_code == 303

    async def test_a_question_typed_while_the_session_ended_is_kept(
        self, mailed: Mailed, browser: httpx.AsyncClient
    ) -> None:
        app, client, _ = mailed
        member = await create_member(client)
        await sign_in(browser, member.token)
        form = await browser.get("/fragen")
        # Meanwhile the session ends (here: signed out everywhere from another device).
        async with browser_of(app) as other:
            await sign_in(other, member.token)
            await post_form(other, "/profil", "/abmelden/ueberall", {})
        typed = {
            CSRF_FIELD: csrf_of(form.text),
            "title": "Bürgerhaushalt digital",
            "body": "Wie haben Sie die Online-Abstimmung zum Bürgerhaushalt organisiert?",
        }
        sent = await browser.post("/fragen", data=typed)
        assert sent.status_code == 303
        location = sent.headers["location"]
        assert location.startswith("/anmelden?")
        assert "entwurf" in location
        assert "aufbewahrt" in text_of((await browser.get(location)).text)
        back = await sign_in(browser, member.token, page=location)
        assert back.status_code == 303
        restored = await browser.get(back.headers["location"])
        assert "Bürgerhaushalt digital" in restored.text
        assert "Online-Abstimmung zum Bürgerhaushalt" in restored.text
