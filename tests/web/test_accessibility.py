"""Every page, in Chromium: axe-core finds nothing wrong (WCAG 2.1 A and AA, best practices),
on a desktop window and on a 390 px phone, where no page scrolls sideways. The pages are
visited as the people who see them: a visitor, a member, a colleague an open question
reaches, the coordinator; with a form that needs fixing, and the error pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.browser import (
    axe_violations,
    boxes_scrolling_sideways,
    describe,
    require_chromium,
    scrolls_sideways,
    serving,
)
from tests.helpers.database import TEMPLATE, own_database
from tests.helpers.mail import PUBLIC_URL
from tests.helpers.processes import free_port
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer

require_chromium()

from playwright.async_api import Browser, Page, ViewportSize  # noqa: E402

from tests.helpers.browser import chromium as launch_chromium  # noqa: E402

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Network:
    url: str
    member_token: str
    member_id: str
    question_path: str
    request_id: str
    gap_question_path: str
    colleague_token: str
    # A consultation of Anna's that Carla accepted, its outcome shared and Carla named on it;
    # and a later question of Anna's on the same topic, which shows that outcome as related.
    consulted_path: str
    consulted_request_id: str
    related_path: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def network(
    server_url: str, template_url: str, fake_embedder: Embedder
) -> AsyncIterator[Network]:
    """A served network with e-mail, in a database of this module's own: three members, a
    question with an invitation, and an application waiting for the coordinator."""
    smtp = SmtpServer(free_port())
    smtp.start(Mailbox())
    try:
        async with own_database(server_url, template=TEMPLATE) as database_url:
            settings = make_settings(
                database_url,
                smtp_url=f"smtp://127.0.0.1:{smtp.port}?{FROM_QUERY}",
                public_url=PUBLIC_URL,
            )
            with serving(create_app(settings, embedder=fake_embedder)) as url:
                async with httpx.AsyncClient(base_url=url) as http:
                    yield await _populate(http, url)
    finally:
        smtp.stop()


async def _populate(http: httpx.AsyncClient, url: str) -> Network:
    asker = await create_member(
        http, name="Anna Asker", email="anna@aachen.example", municipality="Aachen"
    )
    expert = await create_member(
        http,
        name="Bernd Berater",
        email="bernd@bonn.example",
        municipality="Bonn",
        expertise=EXPERTISE,
        tags=["Bürgerrat", "Losverfahren"],
    )
    colleague = await create_member(
        http,
        name="Carla Kollegin",
        email="carla@celle.example",
        municipality="Celle",
        expertise=EXPERTISE,
        tags=["Bürgerrat"],
    )
    # A long address and a long link, as members type them: pages wrap them.
    await create_member(
        http,
        name="Dorothea Beteiligungsbeauftragte-Mustermann",
        email="dorothea.beteiligungsbeauftragte-mustermann@stadtverwaltung-grossbeispielstadt.example",
        municipality="Großbeispielstadt an der Mustersee-Niederung",
        role="Stabsstelle Bürgerbeteiligung, Ehrenamt und Quartiersentwicklung",
    )
    question = await ask(
        http,
        asker,
        title=QUESTION["title"],
        body=QUESTION["body"]
        + " Unsere Unterlagen: https://www.beispielstadt.example/buergerbeteiligung/"
        "buergerrat-2026/protokolle/sitzung-03-empfehlungen-an-den-gemeinderat.pdf",
        open=True,
    )
    # Nobody covers broadband: the coordinator's insights show a gap.
    gap = await ask(
        http, asker, title="Glasfaser für alle Ortsteile", body="Wer hat Glasfaser verlegt?"
    )
    invited = await invite(http, asker, question, expert.id)
    applied = await http.post(
        "/v1/applications",
        json={
            "name": "Clara Bewerberin",
            "email": "clara@celle.example",
            "municipality": {"name": "Celle", "state": "Niedersachsen"},
            "expertise": "Ich habe einen Seniorenbeirat aufgebaut.",
            "consent": True,
        },
    )
    assert applied.status_code == 202, applied.text
    statute = {
        "title": "Beteiligungssatzung erarbeiten",
        "body": "Was regelt eine Satzung für Bürgerbeteiligung verbindlich?",
    }
    consulted = await ask(http, asker, **statute)
    [consulted_request] = (await invite(http, asker, consulted, colleague.id)).json()
    answered = await http.post(
        f"/v1/requests/{consulted_request['id']}/accept", headers=colleague.headers
    )
    assert answered.status_code == 200, answered.text
    outcome = {"text": "Eine Vorhabenliste und ein Beirat.", "shared": True}
    recorded = await http.put(
        f"/v1/questions/{consulted['id']}/outcome", json=outcome, headers=asker.headers
    )
    assert recorded.status_code == 200, recorded.text
    named = await http.put(
        f"/v1/requests/{consulted_request['id']}/named",
        json={"named": True},
        headers=colleague.headers,
    )
    assert named.status_code == 200, named.text
    later = await ask(http, asker, **statute)
    assert [item["question"]["id"] for item in later["related"]] == [consulted["id"]]
    # Carla's experience fits the open question: Offene Fragen lists it for her.
    shown = await http.get("/v1/questions/open", headers=colleague.headers)
    assert [match["question"]["id"] for match in shown.json()["questions"]] == [question["id"]]
    return Network(
        url,
        asker.token,
        asker.id,
        f"/fragen/{question['id']}",
        invited.json()[0]["id"],
        f"/fragen/{gap['id']}",
        colleague.token,
        f"/fragen/{consulted['id']}",
        consulted_request["id"],
        f"/fragen/{later['id']}",
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with launch_chromium() as browser:
        yield browser


async def signed_in(
    browser: Browser, network: Network, token: str | None, size: ViewportSize
) -> Page:
    context = await browser.new_context(viewport=size)
    page = await context.new_page()
    if token is not None:
        await page.goto(f"{network.url}/anmelden")
        await page.get_by_label("Zugangsschlüssel", exact=True).fill(token)
        await page.get_by_role("button", name="Anmelden").click()
        await page.wait_for_load_state()
    return page


VISITOR_PAGES = [
    "/anmelden",
    "/mitglied-werden",
    "/mitglied-werden/bestaetigen/abgelaufen",
    "/anmelden/link/abgelaufen",
    "/profil/email/bestaetigen/abgelaufen",
    "/gibt-es-nicht",
    "/abmelden",
    "/zusammenfassung/abbestellen/kein-gueltiger-link",
]
MEMBER_PAGES = [
    "/profil",
    "/profil/daten",
    "/profil/loeschen",
    "/fragen",
    "{question}",
    "{gap_question}",
    "{consulted}",
    "{related}",
    "/wissen",
    "/wissen?q=Satzung",
    "/anfragen",
    "/anfragen/{request}/zurueckziehen",
    "/koordination",
]
# A colleague whose experience fits the open question, and who could offer help.
COLLEAGUE_PAGES = [
    "/offene-fragen",
    "/offene-fragen/{open_question}",
    "/anfragen",
    "/anfragen/{consulted_request}/nennung?wahl=ja",
    "/profil",
]
COORDINATOR_PAGES = [
    "/koordination",
    "/koordination/mitglieder/neu",
    "/koordination/mitglieder/{member}",
    "/koordination/mitglieder/{member}/daten",
    "/koordination/mitglieder/{member}/loeschen",
    "/koordination/bewerbungen",
    "/koordination/einblicke",
    "/koordination/import",
    "/profil",
]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize(
    ("who", "paths"),
    [
        ("visitor", VISITOR_PAGES),
        ("member", MEMBER_PAGES),
        ("colleague", COLLEAGUE_PAGES),
        ("coordinator", COORDINATOR_PAGES),
    ],
)
async def test_every_page_passes_axe_and_fits_a_phone(
    chromium: Browser, network: Network, who: str, paths: list[str], size: ViewportSize
) -> None:
    token = {
        "visitor": None,
        "member": network.member_token,
        "colleague": network.colleague_token,
        "coordinator": ADMIN_TOKEN,
    }[who]
    page = await signed_in(chromium, network, token, size)
    problems: list[str] = []
    try:
        for template in paths:
            path = template.format(
                question=network.question_path,
                gap_question=network.gap_question_path,
                open_question=network.question_path.rsplit("/", 1)[1],
                consulted=network.consulted_path,
                consulted_request=network.consulted_request_id,
                related=network.related_path,
                member=network.member_id,
                request=network.request_id,
            )
            await page.goto(f"{network.url}{path}")
            found = await axe_violations(page)
            if found:
                problems.append(f"{path}:\n{describe(found)}")
            if await scrolls_sideways(page):
                problems.append(f"{path}: the page scrolls sideways at {size['width']} px")
            if size == DESKTOP and (hidden := await boxes_scrolling_sideways(page)):
                problems.append(f"{path}: tables wider than the window at 1280 px: {hidden}")
    finally:
        await page.context.close()
    assert not problems, "\n".join(problems)


async def test_forms_with_errors_pass_axe(chromium: Browser, network: Network) -> None:
    page = await signed_in(chromium, network, network.member_token, DESKTOP)
    try:
        await page.goto(f"{network.url}/profil")
        await page.get_by_label("Name", exact=True).fill("")
        await page.get_by_role("button", name="Profil speichern").click()
        await page.wait_for_load_state()
        assert await page.locator("[aria-invalid=true]").count() >= 1
        border = await page.locator("#name").evaluate("e => getComputedStyle(e).borderTopWidth")
        assert border == "3px"  # the invalid field keeps its red border
        found = await axe_violations(page)
        assert not found, describe(found)
        await page.goto(f"{network.url}{network.question_path}")
        await page.get_by_role("button", name="Einladen").click()
        await page.wait_for_load_state()
        link = page.locator(".error-summary a").first
        target = (await link.get_attribute("href")) or ""
        assert re.fullmatch(r"#[\w-]+", target)
        assert await page.locator(target).count() == 1
        found = await axe_violations(page)
        assert not found, describe(found)
    finally:
        await page.context.close()


async def test_the_insights_page_shows_the_gaps_first(chromium: Browser, network: Network) -> None:
    page = await signed_in(chromium, network, ADMIN_TOKEN, PHONE)
    try:
        await page.get_by_role("link", name="Einblicke").click()
        gaps = page.locator("section[aria-labelledby=luecken] article")
        assert await gaps.count() >= 1
        assert "Glasfaser für alle Ortsteile" in await gaps.first.inner_text()
        headings = await page.locator("h2").all_inner_texts()
        assert headings[0].startswith("Lücken")
        assert not await scrolls_sideways(page)
    finally:
        await page.context.close()
