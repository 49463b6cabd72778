"""What came out of consultations, on the web (api/web/routes/outcomes.py), with the real model:
"Ergebnis festhalten" on the question page, the helper's choice to be named, "Im Netzwerk schon
beraten" on a later question with the helper to invite, and Wissen."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_outcomes import LATER, OUTCOME, STATUTE
from tests.helpers.api import CreatedMember, ask, create_member, invite
from tests.helpers.web import post_form, press_button, sign_in, text_of

pytestmark = pytest.mark.real_model


async def _consulted(client: httpx.AsyncClient) -> tuple[CreatedMember, CreatedMember, str, str]:
    """Anna asked about a statute and Hans accepted: Anna, Hans, the question's page and the
    request's id."""
    anna = await create_member(
        client, name="Anna Asker", municipality="Aachen",
        expertise="Ich organisiere Bürgerversammlungen zur Stadtentwicklung.",
    )  # fmt: skip
    hans = await create_member(
        client, name="Hans Helfer", municipality="Hamm",
        expertise="Ich baue die Jugendbeteiligung auf: ein Jugendforum und Projekte mit Schulen.",
    )  # fmt: skip
    question = await ask(client, anna, **STATUTE)
    [request] = (await invite(client, anna, question, hans.id)).json()
    accepted = await client.post(f"/v1/requests/{request['id']}/accept", headers=hans.headers)
    assert accepted.status_code == 200
    return anna, hans, f"/fragen/{question['id']}", request["id"]


async def test_recorded_shared_named_and_found_by_the_next_colleague(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, second_browser: httpx.AsyncClient
) -> None:
    anna, hans, question_path, request_id = await _consulted(client)
    await sign_in(browser, anna.token)
    page = await browser.get(question_path)
    assert "Ergebnis festhalten" in text_of(page.text)
    empty = await post_form(browser, question_path, f"{question_path}/ergebnis", {"outcome": " "})
    assert empty.status_code == 422
    assert "Bitte füllen Sie dieses Feld aus." in text_of(empty.text)
    saved = await post_form(
        browser, question_path, f"{question_path}/ergebnis", {"outcome": OUTCOME, "shared": "ja"}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{question_path}?hinweis=ergebnis-geteilt#ergebnis"
    shown = await browser.get(question_path)
    assert OUTCOME in text_of(shown.text) and 'id="shared" name="shared" value="ja"' in shown.text

    # Hans follows the e-mail's "Ja" link: the choice is made on the page, not by the link.
    await sign_in(second_browser, hans.token)
    choice = await second_browser.get(f"/anfragen/{request_id}/nennung?wahl=ja")
    assert OUTCOME in text_of(choice.text)
    assert 'id="named-ja" name="named" value="ja" checked' in choice.text
    named = await press_button(
        second_browser, choice, f"/anfragen/{request_id}/nennung", named="ja"
    )
    assert named.headers["location"] == f"/anfragen?hinweis=genannt#anfrage-{request_id}"
    listed = await second_browser.get("/anfragen")
    assert "Sie werden dabei mit Namen genannt." in text_of(listed.text)

    # Carla asks the same in other words: the outcome first, with Hans to invite directly.
    carla = await create_member(client, name="Carla Später", municipality="Celle")
    await sign_in(browser, carla.token)
    asked = await post_form(browser, "/fragen", "/fragen", LATER)
    later = await browser.get(asked.headers["location"])
    text = text_of(later.text)
    assert "Im Netzwerk schon beraten" in text and STATUTE["title"] in text
    assert "Beraten hat Hans Helfer (Hamm)." in text
    assert f"hat zu „{STATUTE['title']}“ beraten" in text
    assert text.index("Im Netzwerk schon beraten") < text.index("Vorschläge für Sie")
    # The helper's own button: a form of its own, holding only his id.
    assert f'name="member_ids" value="{hans.id}"><button type="submit"' in later.text
    invited = await post_form(
        browser, asked.headers["location"], f"{asked.headers['location']}/einladen",
        {"member_ids": hans.id},
    )  # fmt: skip
    assert invited.headers["location"] == "/anfragen?hinweis=eingeladen"

    wissen = text_of((await browser.get("/wissen", params={"q": "Vorhabenliste"})).text)
    assert STATUTE["title"] in wissen and "Beraten hat: Hans Helfer (Hamm)" in wissen
    assert STATUTE["title"] in text_of((await browser.get("/wissen")).text)


async def test_an_outcome_not_shared_stays_with_those_who_were_there(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    anna, _, question_path, _ = await _consulted(client)
    await sign_in(browser, anna.token)
    saved = await post_form(
        browser, question_path, f"{question_path}/ergebnis", {"outcome": OUTCOME}
    )
    assert saved.headers["location"] == f"{question_path}?hinweis=ergebnis#ergebnis"
    carla = await create_member(client, name="Carla Später", municipality="Celle")
    await sign_in(browser, carla.token)
    assert "Noch hat niemand ein Ergebnis geteilt" in text_of((await browser.get("/wissen")).text)
    asked = await post_form(browser, "/fragen", "/fragen", LATER)
    later = text_of((await browser.get(asked.headers["location"])).text)
    assert "Im Netzwerk schon beraten" not in later and OUTCOME not in later
