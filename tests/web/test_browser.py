"""End to end in a real browser: Debian's Chromium driven by Playwright against a real server.

Skipped, with the reason shown, where Chromium or Playwright is missing
(tests/helpers/browser.py). One browser per module; each test
gets its own database and its own server (uvicorn in a thread, sharing the session's model).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.api import member_payload
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.browser import chromium as launch_chromium
from tests.helpers.browser import require_chromium, serving

require_chromium()

from playwright.async_api import Browser, Page, ViewportSize, expect  # noqa: E402

# The README's screenshots are taken on the way (the flow a member sees); they are written into
# the repository only on request (`make screenshots`), elsewhere into the test's temporary
# directory, so that a test run leaves the working tree as it was.
SCREENSHOTS_VARIABLE = "PEERCONSULT_SCREENSHOTS"


def _screenshots(tmp_path: Path) -> Path:
    """Where the screenshots go (created): the directory asked for, or the test's own."""
    directory = Path(os.environ.get(SCREENSHOTS_VARIABLE) or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


PHONE: ViewportSize = {"width": 412, "height": 915}


EXPERT = (
    "Wir haben 2023 einen Bürgerrat per Los in unserer Kleinstadt durchgeführt. Die Auslosung "
    "lief über das Melderegister, mit einer zweiten Runde für eine ausgewogene Mischung. Die "
    "Moderation hat ein externes Büro übernommen."
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture
def server(own_database_url: str, fake_embedder: Embedder) -> Iterator[str]:
    """The application on a free port of 127.0.0.1, against this test's database."""
    with serving(create_app(make_settings(own_database_url), embedder=fake_embedder)) as url:
        yield url


async def _sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/anmelden")
    await page.get_by_label("Zugangsschlüssel", exact=True).fill(token)
    await page.get_by_role("button", name="Anmelden").click()


async def _create_member_as_coordinator(page: Page, base: str) -> str:
    """The coordinator creates Bernd through the form; returns the token shown once."""
    await _sign_in(page, base, ADMIN_TOKEN)
    await expect(page.get_by_role("heading", name="Koordination", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Mitglied anlegen").click()
    await page.get_by_label("Name", exact=True).fill("Bernd Berater")
    await page.get_by_label("E-Mail-Adresse").fill("bernd@bonn.example")
    await page.get_by_label("Name der Kommune").fill("Bonn")
    await page.get_by_label("Bundesland").fill("Nordrhein-Westfalen")
    await page.get_by_label("Art der Kommune").select_option("Kleinstadt")
    await page.get_by_label("Funktion").fill("Koordinierungsstelle Bürgerbeteiligung")
    await page.get_by_label("Erfahrung und Expertise").fill(EXPERT)
    await page.get_by_label("Schlagwort 1", exact=True).fill("Bürgerrat")
    await page.get_by_label("Schlagwort 2", exact=True).fill("Losverfahren")
    await page.get_by_role("button", name="Mitglied anlegen").click()
    await expect(page.get_by_text("Zugangsschlüssel – nur jetzt sichtbar")).to_be_visible()
    token: str = await page.locator("#schluessel").input_value()
    assert token.startswith("pc_")
    return token


class TestInTheBrowser:
    async def test_consultation_from_question_to_feedback(
        self, chromium: Browser, server: str, tmp_path: Path
    ) -> None:
        screenshots = _screenshots(tmp_path)
        async with httpx.AsyncClient(base_url=server) as api:
            created = await api.post(
                "/v1/members",
                json=member_payload(
                    name="Anna Asker",
                    email="anna@aachen.example",
                    municipality="Aachen",
                    state="Nordrhein-Westfalen",
                    kind="Großstadt",
                    expertise="Ich baue in Aachen die Jugendbeteiligung auf.",
                    tags=["Jugendbeteiligung"],
                ),
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert created.status_code == 201, created.text
            anna_token = created.json()["token"]

        coordination = await chromium.new_context()
        anna = await chromium.new_context(viewport=PHONE, device_scale_factor=1)
        bernd = await chromium.new_context()
        try:
            bernd_token = await _create_member_as_coordinator(await coordination.new_page(), server)

            # Anna signs in and edits her tags (the script adds a field on request).
            page = await anna.new_page()
            await _sign_in(page, server, anna_token)
            await expect(page).to_have_url(re.compile(r"/fragen$"))
            await page.get_by_role("link", name="Mein Profil").click()
            await page.get_by_role("button", name="Weiteres Schlagwort").click()
            await expect(page.get_by_label("Schlagwort 5", exact=True)).to_be_focused()
            await page.get_by_label("Schlagwort 2", exact=True).fill("Bürgerrat")
            await page.get_by_role("button", name="Profil speichern").click()
            await expect(page.get_by_role("status")).to_have_text("Ihr Profil ist gespeichert.")
            await expect(page.get_by_label("Schlagwort 2", exact=True)).to_have_value("Bürgerrat")

            # She asks and sees Bernd with the reasons.
            await page.get_by_role("link", name="Frage stellen").click()
            await page.get_by_label("Titel").fill("Bürgerrat per Los in einer Kleinstadt")
            await page.get_by_label("Ihre Frage").fill(
                "Wir wollen einen Bürgerrat auslosen. Wie haben Sie die Teilnehmenden über das "
                "Melderegister ausgelost, und wer hat moderiert?"
            )
            await page.get_by_label("Schlagwort 1", exact=True).fill("Bürgerrat")
            await page.get_by_role(
                "button", name="Passende Kolleginnen und Kollegen finden"
            ).click()
            await expect(page.get_by_role("heading", name="Vorschläge für Sie")).to_be_visible()
            card = page.locator(".card", has_text="Bernd Berater")
            await expect(card).to_contain_text("Bonn (Nordrhein-Westfalen, Kleinstadt)")
            await expect(card.locator("mark").first).to_be_visible()
            await expect(card.locator(".tags")).to_contain_text("Bürgerrat")
            await page.screenshot(
                path=str(screenshots / "frage-mit-vorschlaegen.png"), full_page=True
            )

            # She invites him with a message.
            await page.get_by_label("Auswählen: Bernd Berater").check()
            await page.get_by_label("Nachricht an die Eingeladenen").fill(
                "Mögen Sie mir von Ihrem Bürgerrat erzählen?"
            )
            await page.get_by_role("button", name="Einladen").click()
            await expect(page).to_have_url(re.compile(r"/anfragen\?hinweis=eingeladen$"))
            await expect(page.locator("#ausgehend + ul .status")).to_have_text("ausstehend")

            # Bernd signs in elsewhere and accepts.
            other = await bernd.new_page()
            await _sign_in(other, server, bernd_token)
            await other.get_by_role("link", name="Meine Anfragen").click()
            await expect(
                other.get_by_text("Mögen Sie mir von Ihrem Bürgerrat erzählen?")
            ).to_be_visible()
            await other.get_by_role("button", name=re.compile("^Annehmen")).click()
            await expect(other.get_by_role("link", name="anna@aachen.example")).to_have_attribute(
                "href", "mailto:anna@aachen.example"
            )

            # Anna sees his contact and gives feedback.
            await page.get_by_role("link", name="Meine Anfragen").click()
            contact = page.get_by_role("link", name="bernd@bonn.example")
            await expect(contact).to_have_attribute("href", "mailto:bernd@bonn.example")
            await expect(page.locator("#ausgehend + ul .status")).to_have_text("angenommen")
            await page.screenshot(
                path=str(screenshots / "anfragen-mit-kontakt.png"), full_page=True
            )
            await page.get_by_label("5 – sehr hilfreich").check()
            await page.get_by_label("Kommentar").fill("Danke, das hat sehr geholfen.")
            await page.get_by_role("button", name="Rückmeldung senden").click()
            await expect(page.get_by_role("status")).to_have_text("Danke für Ihre Rückmeldung!")
            await expect(page.get_by_text("Ihre Rückmeldung: 5 von 5")).to_be_visible()
        finally:
            await coordination.close()
            await anna.close()
            await bernd.close()

    async def test_keyboard_only_sign_in_and_error_focus(
        self, chromium: Browser, server: str
    ) -> None:
        context = await chromium.new_context()
        try:
            page = await context.new_page()
            await page.goto(f"{server}/anmelden")
            await page.keyboard.press("Tab")
            skip = page.get_by_role("link", name="Zum Inhalt springen")
            await expect(skip).to_be_focused()
            await expect(skip).to_be_in_viewport()
            await page.keyboard.press("Enter")
            await page.keyboard.press("Tab")
            await expect(page.get_by_label("Zugangsschlüssel", exact=True)).to_be_focused()
            await page.keyboard.type("pc_falsch")
            await page.keyboard.press("Enter")
            # A wrong token: the error summary takes the focus and names the problem.
            summary = page.get_by_role("alert")
            await expect(summary).to_be_focused()
            await expect(summary).to_contain_text("Dieser Zugangsschlüssel stimmt nicht")
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name=re.compile("stimmt nicht"))).to_be_focused()
            await page.keyboard.press("Enter")
            await expect(page.get_by_label("Zugangsschlüssel", exact=True)).to_be_focused()
            await page.keyboard.type(ADMIN_TOKEN)
            await page.keyboard.press("Enter")
            await expect(page).to_have_url(re.compile(r"/koordination$"))
            outline = await page.get_by_role("link", name="Mitglied anlegen").evaluate(
                "el => { el.focus(); return getComputedStyle(el).outlineStyle; }"
            )
            assert outline == "solid"
        finally:
            await context.close()

    async def test_a_member_takes_their_data_and_leaves(
        self, chromium: Browser, server: str, tmp_path: Path
    ) -> None:
        """From Mein Profil: the data as a readable page and a JSON file, then the account
        erased; afterwards the token answers 401."""
        async with httpx.AsyncClient(base_url=server) as http:
            created = await http.post(
                "/v1/members",
                json=member_payload(name="Dora Daten", email="dora@daten.example"),
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            token = created.json()["token"]
        context = await chromium.new_context(accept_downloads=True)
        try:
            page = await context.new_page()
            await _sign_in(page, server, token)
            await page.get_by_role("link", name="Mein Profil").click()
            await page.get_by_role("link", name="Meine Daten ansehen").click()
            await expect(page.get_by_role("heading", name="Meine Daten")).to_be_visible()
            await expect(page.get_by_text("dora@daten.example")).to_be_visible()
            async with page.expect_download() as waiting:
                await page.get_by_role("link", name="Alle Daten herunterladen (JSON)").click()
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert saved.name.startswith("peerconsult-daten-")
            assert json.loads(saved.read_text(encoding="utf-8"))["member"]["name"] == "Dora Daten"
            await page.get_by_role("link", name="Konto löschen …").click()
            await expect(page.get_by_text("Gelöscht werden, sofort und endgültig")).to_be_visible()
            await page.get_by_role("button", name="Ja, mein Konto endgültig löschen").click()
            await expect(page.get_by_role("status")).to_have_text(
                "Ihr Konto und alle Daten dazu sind gelöscht. Danke, dass Sie dabei waren."
            )
        finally:
            await context.close()
        async with httpx.AsyncClient(base_url=server) as http:
            me = await http.get("/v1/members/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


class TestImport:
    async def test_the_coordinator_imports_a_german_spreadsheet_twice(
        self, chromium: Browser, server: str, tmp_path: Path
    ) -> None:
        """In Chromium: a spreadsheet as German Excel saves it is previewed, imported, edited
        by its member, and imported again without undoing the member's edit."""
        spreadsheet = tmp_path / "mitglieder.csv"
        spreadsheet.write_bytes(
            (
                "\ufeffName;E-Mail;Kommune;Bundesland;Expertise;Schlagworte\r\n"
                "Karla Beispiel;karla@mainz.example;Mainz;RLP;Ich begleite Bürgerräte.;"
                '"Bürgerrat; Losverfahren; Zufallsauswahl"\r\n'
            ).encode("utf-8")
        )
        context = await chromium.new_context()
        page = await context.new_page()
        try:
            await _sign_in(page, server, ADMIN_TOKEN)
            await page.get_by_role("link", name="Mitglieder importieren").click()
            await page.get_by_label("Datei (CSV oder JSON").set_input_files(spreadsheet)
            await page.get_by_role("button", name="Vorschau ansehen").click()
            await expect(page.get_by_text("Noch ist nichts gespeichert")).to_be_visible()
            await page.get_by_role("button", name="Jetzt importieren").click()
            await expect(page.get_by_text("ist importiert: 1 neu")).to_be_visible()
            await page.get_by_role("link", name="Zur Koordination").click()
            await page.get_by_role("link", name=re.compile("Bearbeiten.*Karla Beispiel")).click()
            await expect(page.get_by_label("Bundesland")).to_have_value("Rheinland-Pfalz")
            assert await page.locator("input[name=tags]").evaluate_all(
                "fields => fields.map(f => f.value).filter(v => v)"
            ) == ["Bürgerrat", "Losverfahren", "Zufallsauswahl"]
            await page.get_by_label("Erfahrung und Expertise").fill(
                "Ich begleite Bürgerräte und berate kleine Gemeinden zum Losverfahren."
            )
            await page.get_by_role("button", name="Speichern").click()
            await page.goto(f"{server}/koordination/import")
            await page.get_by_label("Datei (CSV oder JSON").set_input_files(spreadsheet)
            await page.get_by_role("button", name="Vorschau ansehen").click()
            await expect(page.get_by_role("cell", name="unverändert")).to_be_visible()
            await page.get_by_role("button", name="Jetzt importieren").click()
            await expect(page.get_by_text("0 neu, 0 geändert, 1 unverändert")).to_be_visible()
            await page.get_by_role("link", name="Zur Koordination").click()
            await page.get_by_role("link", name=re.compile("Bearbeiten.*Karla Beispiel")).click()
            await expect(page.get_by_label("Erfahrung und Expertise")).to_have_value(
                "Ich begleite Bürgerräte und berate kleine Gemeinden zum Losverfahren."
            )
        finally:
            await context.close()


@pytest.fixture
def server_with_model(own_database_url: str, embedder: Embedder) -> Iterator[str]:
    """The application with the real model: whom an open question reaches is its subject."""
    with serving(create_app(make_settings(own_database_url), embedder=embedder)) as url:
        yield url


class TestReach:
    async def test_an_open_question_finds_a_colleague_who_offers_help(
        self, chromium: Browser, server_with_model: str
    ) -> None:
        """Anna opens her question as she asks it; Bernd, whose experience fits, finds it under
        Offene Fragen and offers help; Anna accepts on Meine Anfragen; both see the contact."""
        server = server_with_model
        tokens: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=server) as api:
            for name, email, municipality, expertise in (
                ("Anna Asker", "anna@aachen.example", "Aachen", "Jugendbeteiligung in Aachen."),
                ("Bernd Berater", "bernd@bonn.example", "Bonn", EXPERT),
            ):
                created = await api.post(
                    "/v1/members",
                    json=member_payload(
                        name=name, email=email, municipality=municipality, expertise=expertise
                    ),
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
                assert created.status_code == 201, created.text
                tokens[name] = created.json()["token"]
        anna = await chromium.new_context(viewport=PHONE)
        bernd = await chromium.new_context()
        try:
            page = await anna.new_page()
            await _sign_in(page, server, tokens["Anna Asker"])
            await page.get_by_label("Titel").fill("Bürgerrat per Los in einer Kleinstadt")
            await page.get_by_label("Ihre Frage").fill(
                "Wir möchten einen Bürgerrat auslosen. Wie haben Sie die Teilnehmenden über das "
                "Melderegister ausgelost, und wer hat moderiert?"
            )
            await page.get_by_label("Frage öffnen").check()
            await page.get_by_role(
                "button", name="Passende Kolleginnen und Kollegen finden"
            ).click()
            await expect(page.get_by_text("Offen:")).to_be_visible()

            other = await bernd.new_page()
            await _sign_in(other, server, tokens["Bernd Berater"])
            await other.get_by_role("link", name="Offene Fragen").click()
            card = other.locator(".card", has_text="Bürgerrat per Los in einer Kleinstadt")
            await expect(card).to_contain_text("Anna Asker (Aachen")
            await expect(card).to_contain_text("Ihre passende Erfahrung")
            await card.get_by_label("Nachricht an Anna Asker").fill("Gern erzähle ich davon.")
            await card.get_by_role("button", name=re.compile("^Ich kann helfen")).click()
            await expect(other).to_have_url(re.compile(r"/anfragen\?hinweis=angeboten$"))

            # The page says where offers arrive, and links there.
            await page.locator("#inhalt").get_by_role("link", name="Meine Anfragen").click()
            await expect(page.get_by_text("Gern erzähle ich davon.")).to_be_visible()
            await page.get_by_role("button", name=re.compile("^Annehmen")).click()
            await expect(page.get_by_role("link", name="bernd@bonn.example")).to_have_attribute(
                "href", "mailto:bernd@bonn.example"
            )
            await other.reload()
            await expect(other.get_by_role("link", name="anna@aachen.example")).to_be_visible()
        finally:
            await anna.close()
            await bernd.close()


class TestMemory:
    async def test_an_outcome_shared_is_found_by_the_next_colleague(
        self, chromium: Browser, server_with_model: str
    ) -> None:
        """Anna records what came out of Hans's advice and shares it; Hans chooses to be named;
        Carla, asking the same in other words, finds it above her suggestions and invites Hans
        from there."""
        server = server_with_model
        tokens: dict[str, str] = {}
        ids: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=server) as api:
            coordinator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            for name, municipality, expertise in (
                ("Anna Asker", "Aachen", "Ich organisiere Bürgerversammlungen."),
                ("Hans Helfer", "Hamm", "Ich baue ein Jugendforum mit Schulen auf."),
                ("Carla Später", "Celle", "Ich betreue den Seniorenbeirat."),
            ):
                created = await api.post(
                    "/v1/members",
                    json=member_payload(name=name, municipality=municipality, expertise=expertise),
                    headers=coordinator,
                )
                tokens[name], ids[name] = created.json()["token"], created.json()["id"]
            anna = {"Authorization": f"Bearer {tokens['Anna Asker']}"}
            asked = await api.post(
                "/v1/questions",
                json={
                    "title": "Beteiligungssatzung erarbeiten",
                    "body": "Was regelt eine Satzung für Bürgerbeteiligung verbindlich, und wie "
                    "kommt eine Vorhabenliste zustande?",
                },
                headers=anna,
            )
            question_id = asked.json()["id"]
            invited = await api.post(
                f"/v1/questions/{question_id}/requests",
                json={"member_ids": [ids["Hans Helfer"]]},
                headers=anna,
            )
            request_id = invited.json()[0]["id"]
            accepted = await api.post(
                f"/v1/requests/{request_id}/accept",
                headers={"Authorization": f"Bearer {tokens['Hans Helfer']}"},
            )
            assert accepted.status_code == 200
        contexts = [await chromium.new_context() for _ in range(3)]
        try:
            page = await contexts[0].new_page()
            await _sign_in(page, server, tokens["Anna Asker"])
            await page.goto(f"{server}/fragen/{question_id}")
            await page.get_by_label("Was dabei herausgekommen ist").fill(
                "Hans hat uns gezeigt, wie eine Vorhabenliste, Mindeststandards und ein "
                "Beteiligungsbeirat in die Satzung kommen."
            )
            await page.get_by_label("Mit dem Netzwerk teilen").check()
            await page.get_by_role("button", name="Ergebnis speichern").click()
            await expect(page.get_by_role("status")).to_contain_text("mit dem Netzwerk geteilt")

            hans = await contexts[1].new_page()
            await _sign_in(hans, server, tokens["Hans Helfer"])
            await hans.goto(f"{server}/anfragen/{request_id}/nennung?wahl=ja")
            await expect(hans.get_by_label("Ja, mit Namen nennen")).to_be_checked()
            await hans.get_by_role("button", name="Wahl speichern").click()
            await expect(hans.get_by_role("status")).to_have_text(
                "Sie werden auf dem geteilten Ergebnis mit Namen genannt."
            )

            carla = await contexts[2].new_page()
            await _sign_in(carla, server, tokens["Carla Später"])
            await carla.get_by_label("Titel").fill("Leitlinien als Satzung beschließen")
            await carla.get_by_label("Ihre Frage").fill(
                "Wie habt ihr Mindeststandards und eine Liste der geplanten Vorhaben in eurer "
                "Satzung für Bürgerbeteiligung festgelegt?"
            )
            await carla.get_by_role(
                "button", name="Passende Kolleginnen und Kollegen finden"
            ).click()
            related = carla.locator("section.related")
            await expect(related).to_contain_text("Beteiligungssatzung erarbeiten")
            await expect(related).to_contain_text("Beraten hat Hans Helfer (Hamm).")
            await expect(carla.locator(".card", has_text="Hans Helfer").last).to_contain_text(
                "hat zu „Beteiligungssatzung erarbeiten“ beraten"
            )
            await related.get_by_role("button", name="Hans Helfer einladen").click()
            await expect(carla).to_have_url(re.compile(r"/anfragen\?hinweis=eingeladen$"))
        finally:
            for context in contexts:
                await context.close()
