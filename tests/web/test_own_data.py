"""A member's own data in the browser: the readable summary, the JSON download (the API's
export), and erasing the account; the coordinator does both for a member."""

from __future__ import annotations

import json

import httpx

from tests.helpers.api import QUESTION, ask, create_member
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.web import post_form, sign_in, text_of


class TestMyData:
    async def test_the_profile_leads_to_a_summary_and_a_download(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(
            client, name="Dora Daten", email="dora@example.org", tags=["Bürgerrat"]
        )
        await ask(client, member, **QUESTION)
        await sign_in(browser, member.token)
        profile = await browser.get("/profil")
        assert 'href="/profil/daten"' in profile.text
        assert 'href="/profil/export"' in profile.text
        assert 'href="/profil/loeschen"' in profile.text
        summary = text_of((await browser.get("/profil/daten")).text)
        for shown in ("Dora Daten", "dora@example.org", "Bürgerrat", QUESTION["title"]):
            assert shown in summary
        download = await browser.get("/profil/export")
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment; filename=")
        exported = download.json()
        from_api = await client.get(f"/v1/members/{member.id}/export", headers=member.headers)
        assert exported == from_api.json()
        assert exported["questions"][0]["title"] == QUESTION["title"]

    async def test_erasing_the_account_signs_out_and_ends_the_token(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, name="Gabi Geht")
        await sign_in(browser, member.token)
        confirm = await browser.get("/profil/loeschen")
        said = text_of(confirm.text)
        assert "Gelöscht werden, sofort und endgültig" in said
        assert "Andere sehen danach nichts mehr davon" in said
        erased = await post_form(browser, "/profil/loeschen", "/profil/loeschen", {})
        assert erased.status_code == 303
        assert erased.headers["location"] == "/anmelden?hinweis=konto-geloescht"
        farewell = await browser.get(erased.headers["location"])
        assert "Ihr Konto und alle Daten dazu sind gelöscht." in text_of(farewell.text)
        assert (await browser.get("/profil")).status_code == 303
        me = await client.get("/v1/members/me", headers=member.headers)
        assert me.status_code == 401

    async def test_the_coordinator_sees_and_downloads_a_members_data(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, name="Karl Koord", email="karl@example.org")
        await sign_in(browser, ADMIN_TOKEN)
        page = await browser.get(f"/koordination/mitglieder/{member.id}")
        assert f'href="/koordination/mitglieder/{member.id}/daten"' in page.text
        summary = await browser.get(f"/koordination/mitglieder/{member.id}/daten")
        assert "karl@example.org" in text_of(summary.text)
        download = await browser.get(f"/koordination/mitglieder/{member.id}/export")
        assert download.headers["content-disposition"].startswith("attachment")
        assert json.loads(download.text)["member"]["name"] == "Karl Koord"
        erase_page = await browser.get(f"/koordination/mitglieder/{member.id}/loeschen")
        assert "Andere sehen danach nichts mehr davon" in text_of(erase_page.text)

    async def test_members_see_only_their_own(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        other = await create_member(client, municipality="Anderswo")
        await sign_in(browser, member.token)
        response = await browser.get(f"/koordination/mitglieder/{other.id}/export")
        assert response.status_code == 403
