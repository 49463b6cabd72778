"""Koordination › Einblicke in the browser-like client: the gaps first with their questions'
titles, every table as CSV, and only for the coordinator."""

from __future__ import annotations

import re

import httpx

from api.web.auth import CSRF_FIELD
from api.web.routes.insights import spreadsheet_cell
from tests.helpers.api import ask, create_member
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.mail import Mailed, wait_for_mail
from tests.helpers.web import csrf_of, sign_in, text_of


async def test_the_coordinator_sees_gaps_charts_and_tables(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    asker = await create_member(client, name="Anna Asker", municipality="Aachen")
    await create_member(client, name="Bernd Berater", municipality="Bonn", state="Bayern")
    # With the test model nobody matches a question on broadband: a gap.
    await ask(
        client, asker, title="Glasfaser für alle Ortsteile", body="Wer hat Glasfaser verlegt?"
    )
    await sign_in(browser, ADMIN_TOKEN)
    page = await browser.get("/koordination/einblicke")
    assert page.status_code == 200
    text = text_of(page.text)
    assert text.index("Lücken") < text.index("Wie Anfragen laufen")
    assert "Glasfaser für alle Ortsteile" in text
    assert "<svg" in page.text and "<table" in page.text
    assert "Mitglieder je Bundesland" in text
    csv = await browser.get("/koordination/einblicke/bundeslaender.csv")
    assert csv.status_code == 200
    assert csv.headers["content-disposition"].startswith("attachment")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "Bundesland;Mitglieder"
    assert sorted(lines[1:]) == ["Bayern;1", "Hessen;1"]
    gaps = await browser.get("/koordination/einblicke/luecken.csv")
    assert "Glasfaser für alle Ortsteile" in gaps.text
    assert (await browser.get("/koordination/einblicke/nichts.csv")).status_code == 404
    # Every table the page shows downloads.
    links = re.findall(r'href="(/koordination/einblicke/\w+\.csv)"', page.text)
    assert len(links) == 6
    for link in links:
        assert (await browser.get(link)).status_code == 200, link
    # A period without questions has no gaps.
    later = await browser.get("/koordination/einblicke?von=2099-01-01")
    assert "Keine Lücken" in text_of(later.text)


async def test_members_never_see_it(client: httpx.AsyncClient, browser: httpx.AsyncClient) -> None:
    member = await create_member(client)
    await sign_in(browser, member.token)
    assert (await browser.get("/koordination/einblicke")).status_code == 403
    assert (await browser.get("/koordination/einblicke/luecken.csv")).status_code == 403


async def test_csv_cells_that_a_spreadsheet_would_run_are_text(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    """OWASP's CSV injection: a cell that starts with =, +, -, @, tab or carriage return is
    written with a leading apostrophe."""
    asker = await create_member(client, municipality="Aachen")
    await create_member(client, municipality="Bonn")
    await ask(client, asker, title='=HYPERLINK("http://example.org")', body="Glasfaser?")
    await sign_in(browser, ADMIN_TOKEN)
    gaps = (await browser.get("/koordination/einblicke/luecken.csv")).text
    assert "'=HYPERLINK" in gaps
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert spreadsheet_cell(-3) == -3
    assert spreadsheet_cell("Bürgerrat") == "Bürgerrat"


async def test_a_date_at_the_end_of_the_calendar_is_no_500(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, ADMIN_TOKEN)
    page = await browser.get("/koordination/einblicke?von=0001-01-01&bis=9999-12-31")
    assert page.status_code == 200


async def test_the_page_says_its_period_and_shows_whole_labels(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await create_member(client)
    await sign_in(browser, ADMIN_TOKEN)
    everything = text_of((await browser.get("/koordination/einblicke")).text)
    assert "Zeitraum: alles seit Beginn des Netzwerks bei peerconsult" in everything
    november = await browser.get("/koordination/einblicke?von=2026-11-01&bis=2026-11-30")
    assert "Zeitraum: vom 01.11.2026 bis einschließlich 30.11.2026" in text_of(november.text)
    assert ">Profil seit 12 Monaten unverändert</text>" in november.text
    csv = await browser.get("/koordination/einblicke/luecken.csv?von=2026-11-01&bis=2026-11-30")
    assert (
        "einblicke-luecken-von-2026-11-01-bis-2026-11-30.csv"
        in (csv.headers["content-disposition"])
    )
    assert spreadsheet_cell(0.04) == "0,04"


async def test_the_coordinator_writes_to_the_closest_from_a_gap(
    mailed: Mailed, mailed_browser: httpx.AsyncClient
) -> None:
    _, client, mailbox = mailed
    asker = await create_member(client, name="Anna Asker", municipality="Aachen")
    closest = await create_member(
        client, name="Bernd Berater", municipality="Bonn", email="bernd@bonn.example"
    )
    await ask(
        client, asker, title="Glasfaser für alle Ortsteile", body="Wer hat Glasfaser verlegt?"
    )
    await sign_in(mailed_browser, ADMIN_TOKEN)
    page = await mailed_browser.get("/koordination/einblicke")
    assert "Ausgewählte anschreiben" in text_of(page.text)
    question_ids = re.findall(r'name="question_id" value="([^"]+)"', page.text)
    action = "/koordination/einblicke/luecken/anschreiben"
    nobody = await mailed_browser.post(
        action, data={CSRF_FIELD: csrf_of(page.text), "question_id": question_ids}
    )
    assert nobody.status_code == 303
    assert "Bitte wählen Sie" in text_of(
        (await mailed_browser.get(nobody.headers["location"])).text
    )
    sent = await mailed_browser.post(
        action,
        data={
            CSRF_FIELD: csrf_of(page.text),
            "question_id": question_ids,
            "member_id": [closest.id],
            "nachricht": "Sie haben doch die Leitungen im Neubaugebiet begleitet?",
        },
    )
    assert sent.status_code == 303
    after = text_of((await mailed_browser.get(sent.headers["location"])).text)
    assert "Die E-Mails sind unterwegs" in after
    assert "Angeschrieben: Bernd Berater (am " in after
    [mail] = await wait_for_mail(mailbox, 1)
    assert mail.recipients == ["bernd@bonn.example"]
    assert "„Glasfaser für alle Ortsteile“" in mail.body
    assert "Neubaugebiet" in mail.body
    assert "Anna Asker" not in mail.body
