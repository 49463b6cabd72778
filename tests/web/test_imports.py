"""Koordination › Mitglieder importieren: German spreadsheets, a preview before anything is
written, welcomes for the new members, and re-imports that keep members' own changes and never
bring back an erased member (api/web/routes/imports.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest_asyncio

from api.app import create_app
from service import db
from service.embedding import Embedder
from tests.helpers.app import ADMIN_TOKEN, COORDINATOR, make_settings
from tests.helpers.mail import PUBLIC_URL, api_client, mail_to, wait_for_mail
from tests.helpers.processes import free_port
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer
from tests.helpers.web import browser_of, csrf_of, sign_in, text_of

SPREADSHEET = (
    "\ufeffName;E-Mail;Kommune;Bundesland;Expertise;Schlagworte\r\n"
    'Karla Beispiel;karla@mainz.example;Mainz;RLP;Ich begleite Bürgerräte.;"Bürgerrat; '
    'Losverfahren; Zufallsauswahl"\r\n'
    "Jens Muster;jens@koeln.example;Köln;NRW;Ich betreue Jugendbeteiligung.;Jugend\r\n"
).encode("utf-8")


@dataclass
class Network:
    client: httpx.AsyncClient
    browser: httpx.AsyncClient
    mailbox: Mailbox
    pool: asyncpg.Pool


@pytest_asyncio.fixture
async def network(own_database_url: str, fake_embedder: Embedder) -> AsyncIterator[Network]:
    """The coordinator signed in, on a database of its own (an import writes with several
    connections), with e-mail to a real SMTP server on loopback."""
    smtp = SmtpServer(free_port())
    mailbox = smtp.start(Mailbox())
    pool = await db.create_pool(own_database_url, max_size=4)
    settings = make_settings(
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?{FROM_QUERY}",
        public_url=PUBLIC_URL,
        outbox_interval_seconds=0.1,
    )
    app = create_app(settings, embedder=fake_embedder, pool=pool)
    try:
        async with (
            app.router.lifespan_context(app),
            api_client(app) as client,
            browser_of(app) as browser,
        ):
            await sign_in(browser, ADMIN_TOKEN)
            yield Network(client, browser, mailbox, pool)
    finally:
        await pool.close()
        smtp.stop()


async def upload(
    browser: httpx.AsyncClient, content: bytes, name: str = "mitglieder.csv"
) -> httpx.Response:
    page = await browser.get("/koordination/import")
    assert page.status_code == 200
    return await browser.post(
        "/koordination/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"datei": (name, content, "text/csv")},
    )


async def confirm(browser: httpx.AsyncClient, preview: httpx.Response, *, welcome: bool) -> str:
    action = preview.text.split('action="/koordination/import/', 1)[1].split('"', 1)[0]
    data = {"csrf_token": csrf_of(preview.text)}
    if welcome:
        data["welcome"] = "ja"
    done = await browser.post(f"/koordination/import/{action}", data=data)
    assert done.status_code == 200, done.text
    return text_of(done.text)


class TestImportPage:
    async def test_a_german_spreadsheet_is_previewed_then_imported_and_welcomed(
        self, network: Network
    ) -> None:
        preview = await upload(network.browser, SPREADSHEET)
        assert preview.status_code == 200, preview.text
        shown = text_of(preview.text)
        assert "Noch ist nichts gespeichert" in shown
        assert "Karla Beispiel neues Mitglied" in shown
        assert (await network.client.get("/v1/tags", headers=COORDINATOR)).json() == []
        done = await confirm(network.browser, preview, welcome=True)
        assert "ist importiert: 2 neu, 0 geändert, 0 unverändert" in done
        assert "2 neue Mitglieder bekommen die Willkommens-E-Mail" in done
        await wait_for_mail(network.mailbox, 2)
        assert len(mail_to(network.mailbox, "karla@mainz.example")) == 1
        karla = next(m for m in await _members(network.pool) if m["name"] == "Karla Beispiel")
        shown_karla = await network.client.get(f"/v1/members/{karla['id']}", headers=COORDINATOR)
        assert shown_karla.json()["municipality"]["state"] == "Rheinland-Pfalz"
        assert shown_karla.json()["tags"] == ["Bürgerrat", "Losverfahren", "Zufallsauswahl"]

    async def test_a_reimport_keeps_a_members_edit_and_skips_an_erased_account(
        self, network: Network
    ) -> None:
        await confirm(network.browser, await upload(network.browser, SPREADSHEET), welcome=False)
        members = {member["name"]: member for member in await _members(network.pool)}
        karla, jens = members["Karla Beispiel"], members["Jens Muster"]
        own = "Ich begleite Bürgerräte und berate zu Losverfahren in kleinen Gemeinden."
        await network.client.patch(
            f"/v1/members/{karla['id']}", json={"expertise": own}, headers=COORDINATOR
        )
        await network.client.delete(f"/v1/members/{jens['id']}", headers=COORDINATOR)
        preview = await upload(network.browser, SPREADSHEET)
        shown = text_of(preview.text)
        assert "Karla Beispiel unverändert" in shown
        assert "übersprungen: Zu dieser Zeile gehörte ein Konto, das gelöscht wurde" in shown
        done = await confirm(network.browser, preview, welcome=True)
        assert "0 neu, 0 geändert, 1 unverändert, 1 übersprungen" in done
        karla_now = await network.client.get(f"/v1/members/{karla['id']}", headers=COORDINATOR)
        assert karla_now.json()["expertise"] == own
        assert len(await _members(network.pool)) == 1
        assert mail_to(network.mailbox, "jens@koeln.example") == []

    async def test_problems_are_named_in_german_by_row_and_column(self, network: Network) -> None:
        broken = "Name;E-Mail;Kommune;Bundesland;Expertise\r\nKarla;karla;Mainz;Rheinland;Ja\r\n"
        refused = await upload(network.browser, broken.encode())
        assert refused.status_code == 422
        shown = text_of(refused.text)
        assert "Es wurde nichts gespeichert" in shown
        assert "Zeile 2, Spalte „E-Mail“: Bitte geben Sie eine gültige E-Mail-Adresse an" in shown
        assert "Zeile 2, Spalte „Bundesland“: „Rheinland“ kennen wir nicht als Bundesland" in shown
        windows = await upload(network.browser, "Name;Kommune\r\nJörg;Köln\r\n".encode("cp1252"))
        assert "CSV UTF-8 (durch Trennzeichen getrennt)" in text_of(windows.text)


async def _members(pool: asyncpg.Pool) -> list[dict[str, str]]:
    records = await pool.fetch("SELECT id::text, name FROM member ORDER BY name")
    return [dict(record) for record in records]
