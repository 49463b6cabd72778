"""Mitglied werden (api/web/routes/joining.py) and deciding at Koordination › Bewerbungen
(api/web/routes/applications.py): applying, confirming the address, being approved or declined."""

from __future__ import annotations

import httpx

from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.database import TransactionPool
from tests.helpers.mail import (
    CONFIRM_LINK,
    SIGN_IN_LINK,
    Mailed,
    link_in,
    settled,
    wait_for_mail,
)
from tests.helpers.web import browser_of, post_form, press_button, sign_in, text_of

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
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        app, _, mailbox = mailed
        form = await mailed_browser.get("/mitglied-werden")
        assert form.status_code == 200
        assert "48 Stunden" in text_of(form.text) and "30 Tage" in text_of(form.text)
        sent = await post_form(mailed_browser, "/mitglied-werden", "/mitglied-werden", APPLICATION)
        assert sent.status_code == 200
        assert "anton@example.org" in text_of(sent.text)
        [confirmation] = await wait_for_mail(mailbox, 1)
        confirm_page = await mailed_browser.get(link_in(confirmation, CONFIRM_LINK))
        confirmed = await press_button(mailed_browser, confirm_page)
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
        link_page = await mailed_browser.get(link_in(welcome, SIGN_IN_LINK))
        await press_button(mailed_browser, link_page)
        profile = await mailed_browser.get("/profil")
        assert "Jugendrat" in profile.text

    async def test_a_declined_applicant_gets_the_reason(
        self,
        mailed: Mailed,
        mailed_browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        app, _, mailbox = mailed
        await post_form(mailed_browser, "/mitglied-werden", "/mitglied-werden", APPLICATION)
        [confirmation] = await wait_for_mail(mailbox, 1)
        await press_button(
            mailed_browser, await mailed_browser.get(link_in(confirmation, CONFIRM_LINK))
        )
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
        mailed_browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        _, _, mailbox = mailed
        answer = await post_form(
            mailed_browser, "/mitglied-werden", "/mitglied-werden", {**APPLICATION, "website": "x"}
        )
        assert answer.status_code == 200
        assert await db_pool.fetchval("SELECT count(*) FROM application") == 0
        assert await settled(mailbox, db_pool) == []

    async def test_without_consent_the_form_asks_for_it_and_keeps_the_rest(
        self,
        mailed: Mailed,
        mailed_browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        without = {key: value for key, value in APPLICATION.items() if key != "consent"}
        answer = await post_form(mailed_browser, "/mitglied-werden", "/mitglied-werden", without)
        assert answer.status_code == 422
        assert "Einwilligung" in text_of(answer.text)
        assert "Jugendrat gegründet" in answer.text
        assert await db_pool.fetchval("SELECT count(*) FROM application") == 0
