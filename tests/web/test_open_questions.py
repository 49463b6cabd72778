"""Offene Fragen (api/web/routes/open_questions.py) with the real model: a question opened on the
ask form is listed for the colleague whose experience fits, with why; offering help on the page,
the asker answering the offer on Meine Anfragen; closing the question; the digest setting in
Mein Profil; the digest's unsubscribe page, which needs no session."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers.pages import asker_and_expert
from tests.helpers.web import post_form, press_button, sign_in, text_of

pytestmark = pytest.mark.real_model

OPEN_QUESTION = {
    "title": "Bürgerrat per Los in einer Kleinstadt",
    "body": "Wir möchten einen Bürgerrat mit ausgelosten Einwohnerinnen und Einwohnern "
    "einberufen. Wie habt ihr die Zufallsauswahl aus dem Melderegister organisiert?",
    "open": "ja",
}


async def _ask_openly(browser: httpx.AsyncClient) -> str:
    """Ask OPEN_QUESTION on /fragen with "Frage öffnen" ticked; the question page's path."""
    asked = await post_form(browser, "/fragen", "/fragen", OPEN_QUESTION)
    assert asked.status_code == 303, asked.text
    path = asked.headers["location"]
    assert re.fullmatch(r"/fragen/[0-9a-f-]{36}", path)
    return path


class TestOpenQuestions:
    async def test_opened_on_the_form_offered_on_the_page_accepted_by_the_asker(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        form = await browser.get("/fragen")
        assert "mit Ihrem Namen und Ihrer Kommune" in text_of(form.text)
        question_path = await _ask_openly(browser)
        question_page = await browser.get(question_path)
        assert "Offen:" in text_of(question_page.text)
        assert "gerade ist das eine Person" in text_of(question_page.text)  # Bernd

        await sign_in(second_browser, expert.token)
        listed = await second_browser.get("/offene-fragen")
        text = text_of(listed.text)
        assert OPEN_QUESTION["title"] in text
        assert "Ihre passende Erfahrung" in text
        assert "Anna Asker (Aachen" in text
        assert "@" not in text.split("Offene Fragen, zu denen")[1]  # no address before accepting

        question_id = question_path.rsplit("/", 1)[1]
        offered = await press_button(
            second_browser,
            listed,
            f"/offene-fragen/{question_id}/anbieten",
            message="Wir haben 2023 ausgelost, gern erzähle ich davon.",
        )
        assert offered.status_code == 303
        assert offered.headers["location"] == "/anfragen?hinweis=angeboten"
        # Offered once, the question leaves the list; its own page says why.
        assert OPEN_QUESTION["title"] not in text_of(
            (await second_browser.get("/offene-fragen")).text
        )
        single = await second_browser.get(f"/offene-fragen/{question_id}")
        assert "schon eine Anfrage oder ein Angebot dazu" in text_of(single.text)

        requests = await browser.get("/anfragen")
        assert "Wir haben 2023 ausgelost, gern erzähle ich davon." in text_of(requests.text)
        assert "bernd@" not in requests.text
        actions = re.findall(r'action="(/anfragen/[0-9a-f-]{36}/[a-z]+)"', requests.text)
        accept = next(action for action in actions if action.endswith("/annehmen"))
        accepted = await press_button(browser, requests, accept)
        assert accepted.status_code == 303
        assert expert.body["email"] in (await browser.get("/anfragen")).text
        assert asker.body["email"] in (await second_browser.get("/anfragen")).text

    async def test_a_closed_question_leaves_the_list(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_path = await _ask_openly(browser)
        await sign_in(second_browser, expert.token)
        assert OPEN_QUESTION["title"] in (await second_browser.get("/offene-fragen")).text

        closed = await press_button(
            browser, await browser.get(question_path), f"{question_path}/schliessen"
        )
        assert closed.status_code == 303
        page = await browser.get(closed.headers["location"])
        assert "Diese Frage sehen nur Sie und die Personen, die Sie einladen." in text_of(page.text)
        empty = text_of((await second_browser.get("/offene-fragen")).text)
        assert OPEN_QUESTION["title"] not in empty
        assert "Gerade gibt es keine offene Frage" in empty

        reopened = await press_button(browser, page, f"{question_path}/oeffnen")
        assert reopened.status_code == 303
        assert OPEN_QUESTION["title"] in (await second_browser.get("/offene-fragen")).text

    async def test_an_offer_on_a_question_of_ones_own_municipality_is_explained(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, _ = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_id = (await _ask_openly(browser)).rsplit("/", 1)[1]
        refused = await post_form(
            browser, "/offene-fragen", f"/offene-fragen/{question_id}/anbieten", {"message": ""}
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in refused.text


class TestDigestSettings:
    async def test_the_profile_sets_how_often_the_digest_comes(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        _, expert = await asker_and_expert(client)
        await sign_in(browser, expert.token)
        profile = await browser.get("/profil")
        assert re.search(r'value="weekly"[^>]*checked', profile.text)
        form_fields = {
            "name": "Bernd Berater",
            "email": expert.body["email"],
            "expertise": "Bürgerrat per Los",
            "tags": "Bürgerrat",
            "accepting_requests": "ja",
            "max_open_requests": "3",
            "digest": "daily",
        }
        saved = await post_form(browser, "/profil", "/profil", form_fields)
        assert saved.status_code == 303, text_of(saved.text)
        me = await client.get("/v1/members/me", headers=expert.headers)
        assert me.json()["digest"] == "daily"

    async def test_an_unsubscribe_link_that_is_not_one_is_a_german_page(
        self, browser: httpx.AsyncClient
    ) -> None:
        asked = await browser.get("/zusammenfassung/abbestellen/nichts")
        assert asked.status_code == 200
        assert "Zusammenfassung abbestellen?" in text_of(asked.text)
        pressed = await press_button(browser, asked)
        assert pressed.status_code == 404
        assert "Dieser Link gilt nicht" in text_of(pressed.text)
