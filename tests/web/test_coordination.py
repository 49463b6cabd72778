"""Koordination (api/web/routes/coordination.py): the overview and member list, creating a member
(with the welcome), editing, a new token, the welcome button, erasure."""

from __future__ import annotations

import re

import httpx

from api.web.auth import CSRF_FIELD
from tests.helpers.api import (
    create_member,
)
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.mail import (
    SIGN_IN_LINK,
    Mailed,
    link_in,
    wait_for_mail,
)
from tests.helpers.web import (
    browser_of,
    csrf_of,
    post_form,
    press_button,
    sign_in,
    text_of,
)


class TestCoordination:
    async def test_overview_and_member_list(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, name="Clara", municipality="Kassel", tags=["Bürgerrat"])
        await create_member(
            client, name="Dora", municipality="Jena", state="Thüringen", tags=["Bürgerrat"]
        )
        await sign_in(browser, ADMIN_TOKEN)
        page = await browser.get("/koordination")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Mitglieder 2" in text
        assert "Kommunen 2" in text
        assert "Bundesländer 2" in text
        assert "Offene Anfragen 0" in text
        assert "Fragen in den letzten 30 Tagen 0" in text
        assert "Bürgerrat (2)" in text
        assert "Clara" in text and "Dora" in text

    async def test_create_member_shows_the_token_once(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await sign_in(browser, ADMIN_TOKEN)
        response = await post_form(
            browser,
            "/koordination/mitglieder/neu",
            "/koordination/mitglieder",
            {
                "name": "Emil Neu",
                "email": "emil@example.org",
                "municipality_name": "Erfurt",
                "municipality_state": "Thüringen",
                "municipality_kind": "Großstadt",
                "role": "Beauftragter",
                "expertise": "Ich moderiere Stadtteilforen.",
                "tags": ["Stadtteilforum"],
                "languages": "de",
                "accepting_requests": "ja",
                "max_open_requests": "3",
            },
        )
        assert response.status_code == 200
        assert "Zugangsschlüssel – nur jetzt sichtbar" in response.text
        token = re.search(r'id="schluessel"[^>]*value="(pc_[^"]+)"', response.text)
        assert token
        me = await client.get(
            "/v1/members/me", headers={"Authorization": f"Bearer {token.group(1)}"}
        )
        assert me.status_code == 200
        assert me.json()["municipality"]["name"] == "Erfurt"

    async def test_create_member_explains_mistakes(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, email="da@example.org")
        await sign_in(browser, ADMIN_TOKEN)
        missing = await post_form(
            browser,
            "/koordination/mitglieder/neu",
            "/koordination/mitglieder",
            {"name": "X", "email": "x@example.org", "expertise": "E", "languages": "de"},
        )
        assert missing.status_code == 422
        assert 'href="#municipality_name">Name der Kommune: Bitte füllen Sie dieses Feld aus.' in (
            missing.text
        )
        assert (
            "Höchstens so viele offene Anfragen: Bitte geben Sie eine ganze Zahl an."
            in missing.text
        )
        taken = await post_form(
            browser,
            "/koordination/mitglieder/neu",
            "/koordination/mitglieder",
            {
                "name": "X",
                "email": "da@example.org",
                "municipality_name": "Ulm",
                "municipality_state": "Baden-Württemberg",
                "expertise": "E",
                "languages": "de",
                "max_open_requests": "3",
            },
        )
        assert taken.status_code == 409
        assert "Es gibt schon ein Mitglied mit der E-Mail-Adresse da@example.org." in text_of(
            taken.text
        )

    async def test_edit_rotate_and_erase(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, name="Frieda", municipality="Fulda")
        await sign_in(browser, ADMIN_TOKEN)
        edit_page = f"/koordination/mitglieder/{member.id}"
        page = await browser.get(edit_page)
        assert 'value="Fulda"' in page.text
        saved = await browser.post(
            edit_page,
            data={
                CSRF_FIELD: csrf_of(page.text),
                "name": "Frieda F.",
                "email": member.body["email"],
                "municipality_name": "Gießen",
                "municipality_state": "Hessen",
                "municipality_kind": "Mittelstadt",
                "role": "",
                "expertise": member.body["expertise"],
                "languages": "de",
                "accepting_requests": "ja",
                "max_open_requests": "2",
            },
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/koordination?hinweis=gespeichert"
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["name"] == "Frieda F."
        assert profile["municipality"]["name"] == "Gießen"

        rotated = await post_form(browser, edit_page, f"{edit_page}/zugang", {})
        assert rotated.status_code == 200
        assert "Neuer Zugangsschlüssel für Frieda F." in rotated.text
        old = await client.get("/v1/members/me", headers=member.headers)
        assert old.status_code == 401

        confirm = await browser.get(f"{edit_page}/loeschen")
        assert confirm.status_code == 200
        assert "Frieda F. löschen?" in confirm.text
        assert "Ja, endgültig löschen" in confirm.text
        erased = await browser.post(
            f"{edit_page}/loeschen", data={CSRF_FIELD: csrf_of(confirm.text)}
        )
        assert erased.status_code == 303
        overview = await browser.get(erased.headers["location"])
        assert "Das Mitglied und alle Daten zu ihm sind gelöscht." in overview.text
        assert "Frieda" not in text_of(overview.text)
        gone = await browser.get(edit_page)
        assert gone.status_code == 404
        assert "Dieses Mitglied gibt es nicht (mehr)." in text_of(gone.text)


class TestCreatingAMember:
    async def test_a_new_member_gets_the_welcome(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        _, _, mailbox = mailed
        await sign_in(mailed_browser, ADMIN_TOKEN)
        created = await post_form(
            mailed_browser,
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


class TestWelcomeButton:
    async def test_the_coordinator_welcomes_a_member_from_their_page(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, name="Nora Neu", email="nora@example.org")
        await sign_in(mailed_browser, ADMIN_TOKEN)
        page = f"/koordination/mitglieder/{member.id}"
        before = text_of((await mailed_browser.get(page)).text)
        assert "Noch nie im Browser angemeldet." in before
        assert "Willkommens-E-Mail verschickt" not in before
        sent = await post_form(mailed_browser, page, f"{page}/willkommen", {})
        assert sent.status_code == 303
        after = text_of((await mailed_browser.get(sent.headers["location"])).text)
        assert "Willkommens-E-Mail verschickt am" in after
        [welcome] = await wait_for_mail(mailbox, 1)
        assert welcome.recipients == ["nora@example.org"]
        async with browser_of(app) as member_browser:
            link_page = await member_browser.get(link_in(welcome, SIGN_IN_LINK))
            assert (await press_button(member_browser, link_page)).headers["location"] == (
                "/profil"
            )
        assert "Zuletzt angemeldet am" in text_of((await mailed_browser.get(page)).text)
