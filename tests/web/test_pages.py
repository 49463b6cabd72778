"""The web interface, driven like a browser without one: sessions, CSRF, roles, every page,
German messages for every mistake a person can make, and the whole consultation flow."""

from __future__ import annotations

import re

import httpx
import pytest
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError

from api.app import create_app
from api.web.auth import CSRF_FIELD
from api.web.cookie import COOKIE_NAME
from service.embedding import Embedder
from tests.helpers.api import CreatedMember, create_member
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.web import (
    browser_of,
    csrf_of,
    post_form,
    session_cookie,
    sign_in,
    text_of,
)

EXPERT = (
    "Wir haben einen Bürgerrat per Los in einer Kleinstadt organisiert. Die Auslosung lief über "
    "das Melderegister, die Moderation hat ein externes Büro übernommen."
)
QUESTION = {
    "title": "Bürgerrat per Los",
    "body": "Wie habt ihr in einer Kleinstadt die Teilnehmenden für einen Bürgerrat ausgelost?",
    "tags": ["Bürgerrat"],
}


async def _pair(client: httpx.AsyncClient) -> tuple[CreatedMember, CreatedMember]:
    """An asker in Aachen and an expert in Bonn who will be suggested to them."""
    asker = await create_member(
        client, name="Anna Asker", municipality="Aachen", tags=["Jugendbeteiligung"]
    )
    expert = await create_member(
        client,
        name="Bernd Berater",
        email="bernd@bonn.example",
        municipality="Bonn",
        expertise=EXPERT,
        tags=["Bürgerrat", "Losverfahren"],
    )
    return asker, expert


async def _ask(browser: httpx.AsyncClient) -> str:
    """Ask QUESTION; returns the question page's path."""
    response = await post_form(browser, "/fragen", "/fragen", QUESTION)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/fragen/[0-9a-f-]{36}", location)
    return location


class TestSignIn:
    async def test_form_is_german_with_a_labelled_token_field(
        self, browser: httpx.AsyncClient
    ) -> None:
        page = await browser.get("/anmelden")
        assert page.status_code == 200
        assert '<html lang="de">' in page.text
        assert '<label for="token">Zugangsschlüssel' in page.text
        assert csrf_of(page.text)
        assert page.headers["cache-control"] == "no-store"

    async def test_member_signs_in_with_a_secure_http_only_cookie(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await sign_in(browser, member.token)
        assert response.status_code == 303
        assert response.headers["location"] == "/fragen"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
        # The cookie holds neither the token nor anything that reveals it directly.
        value = session_cookie(browser)
        assert value and member.token not in value and member.token[3:] not in value
        page = await browser.get("/profil")
        assert page.status_code == 200
        assert "Mein Profil" in page.text

    async def test_coordinator_signs_in_with_the_admin_token(
        self, browser: httpx.AsyncClient
    ) -> None:
        response = await sign_in(browser, ADMIN_TOKEN)
        assert response.status_code == 303
        assert response.headers["location"] == "/koordination"
        assert ADMIN_TOKEN not in (session_cookie(browser) or "")

    async def test_wrong_token_is_refused_in_german(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser, "pc_not-a-token")
        assert response.status_code == 401
        assert "Dieser Zugangsschlüssel stimmt nicht" in text_of(response.text)
        assert 'aria-invalid="true"' in response.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_empty_token_asks_for_one(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser, "  ")
        assert response.status_code == 422
        assert "Bitte geben Sie Ihren Zugangsschlüssel ein." in text_of(response.text)

    async def test_repeated_failures_are_throttled_and_a_valid_token_still_works(
        self, browser: httpx.AsyncClient
    ) -> None:
        statuses = [(await sign_in(browser, f"pc_wrong-{n}")).status_code for n in range(11)]
        assert statuses[-1] == 429
        wrong = await sign_in(browser, "pc_wrong-again")
        assert wrong.status_code == 429
        assert "Zu viele fehlgeschlagene Anmeldeversuche" in text_of(wrong.text)
        valid = await sign_in(browser, ADMIN_TOKEN)
        assert valid.status_code == 303
        assert valid.headers["location"] == "/koordination"

    async def test_next_page_after_sign_in(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        redirect = await browser.get("/anfragen")
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/anmelden?weiter=%2Fanfragen"
        form = await browser.get(redirect.headers["location"])
        assert 'name="weiter" value="/anfragen"' in form.text
        response = await browser.post(
            "/anmelden",
            data={CSRF_FIELD: csrf_of(form.text), "token": member.token, "weiter": "/anfragen"},
        )
        assert response.headers["location"] == "/anfragen"

    async def test_next_page_must_be_one_of_ours(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        form = await browser.get("/anmelden?weiter=//evil.example/")
        assert 'name="weiter" value=""' in form.text
        response = await browser.post(
            "/anmelden",
            data={
                CSRF_FIELD: csrf_of(form.text),
                "token": member.token,
                "weiter": "https://evil.example/",
            },
        )
        assert response.headers["location"] == "/fragen"

    async def test_sign_out_ends_the_session(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(browser, "/profil", "/abmelden", {})
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden?hinweis=abgemeldet"
        assert session_cookie(browser) is None
        page = await browser.get(response.headers["location"])
        assert "Sie sind abgemeldet." in page.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_a_new_token_ends_old_sessions(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        rotated = await client.post(f"/v1/members/{member.id}/token", headers=coordinator)
        assert rotated.status_code == 200
        assert (await browser.get("/profil")).status_code == 303

    async def test_erasure_ends_the_session(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        assert (
            await client.delete(f"/v1/members/{member.id}", headers=coordinator)
        ).status_code == 204
        assert (await browser.get("/fragen")).status_code == 303

    async def test_a_forged_cookie_is_no_session(self, browser: httpx.AsyncClient) -> None:
        browser.cookies.set(COOKIE_NAME, "eyJjIjoieCIsInMiOiJjb29yZGluYXRvciJ9.forged.sig")
        assert (await browser.get("/koordination")).status_code == 303

    async def test_start_page_leads_to_sign_in(self, browser: httpx.AsyncClient) -> None:
        response = await browser.get("/")
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden"


class TestCsrf:
    async def test_form_without_token_is_rejected(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await browser.post("/profil", data={"name": "Eve"})
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text
        assert '<html lang="de">' in response.text
        profile = await client.get("/v1/members/me", headers=member.headers)
        assert profile.json()["name"] != "Eve"

    async def test_token_of_another_session_is_rejected(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        other = await second_browser.get("/anmelden")
        response = await browser.post("/fragen", data={CSRF_FIELD: csrf_of(other.text), **QUESTION})
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text

    async def test_sign_in_needs_the_forms_token(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await browser.post("/anmelden", data={"token": member.token})
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_sign_in_renews_the_csrf_token(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        before = csrf_of((await browser.get("/anmelden")).text)
        await sign_in(browser, member.token)
        after = csrf_of((await browser.get("/profil")).text)
        assert before != after


class TestRoles:
    @pytest.mark.parametrize(
        "path", ["/profil", "/fragen", "/anfragen", "/koordination", "/koordination/mitglieder/neu"]
    )
    async def test_pages_need_a_session(self, browser: httpx.AsyncClient, path: str) -> None:
        response = await browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/anmelden?weiter=")

    async def test_posts_without_session_go_to_sign_in(self, browser: httpx.AsyncClient) -> None:
        form = await browser.get("/anmelden")
        response = await browser.post("/profil", data={CSRF_FIELD: csrf_of(form.text)})
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden"

    @pytest.mark.parametrize("path", ["/koordination", "/koordination/mitglieder/neu"])
    async def test_members_may_not_coordinate(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient, path: str
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await browser.get(path)
        assert response.status_code == 403
        assert "nur für die Koordination" in text_of(response.text)

    @pytest.mark.parametrize("path", ["/profil", "/fragen", "/anfragen"])
    async def test_coordinator_has_no_member_pages(
        self, browser: httpx.AsyncClient, path: str
    ) -> None:
        await sign_in(browser, ADMIN_TOKEN)
        response = await browser.get(path)
        assert response.status_code == 403
        assert "Als Koordination haben Sie kein eigenes Profil" in text_of(response.text)
        assert 'href="/koordination"' in response.text

    async def test_someone_elses_question_is_forbidden(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, expert = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        await sign_in(browser, expert.token)
        response = await browser.get(question_page)
        assert response.status_code == 403
        assert "Das dürfen Sie leider nicht" in text_of(response.text)

    async def test_unknown_ids_are_a_german_404(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await browser.get("/fragen/keine-id")
        assert response.status_code == 404
        assert "Diese Seite gibt es nicht." in text_of(response.text)
        gone = await browser.get("/fragen/00000000-0000-4000-8000-000000000000")
        assert gone.status_code == 404
        assert "Diese Frage gibt es nicht (mehr)." in text_of(gone.text)
        missing = await post_form(
            browser, "/anfragen", "/anfragen/00000000-0000-0000-0000-000000000000/annehmen", {}
        )
        assert missing.status_code == 404
        assert "Diese Anfrage gibt es nicht (mehr)." in text_of(missing.text)


class TestProfile:
    async def test_shows_the_profile_and_the_vocabulary(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, tags=["Losverfahren"], municipality="Köln")
        member = await create_member(client, tags=["Bürgerrat"])
        await sign_in(browser, member.token)
        page = await browser.get("/profil")
        assert page.status_code == 200
        assert '<datalist id="schlagwort-vorschlaege">' in page.text
        assert '<option value="Losverfahren">' in page.text
        assert 'value="Bürgerrat"' in page.text
        assert 'id="accepting_requests" name="accepting_requests" value="ja" checked' in page.text

    async def test_saves_through_the_service(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser,
            "/profil",
            "/profil",
            {
                "name": "Anna Neu",
                "email": member.body["email"],
                "role": "Referentin",
                "expertise": "Ich begleite Jugendforen und Kinderparlamente.",
                "tags": ["Jugendbeteiligung", "", "Kinderparlament"],
                "languages": "de, en",
                "max_open_requests": "5",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/profil?hinweis=profil"
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["name"] == "Anna Neu"
        assert profile["tags"] == ["Jugendbeteiligung", "Kinderparlament"]
        assert profile["languages"] == ["de", "en"]
        assert profile["accepting_requests"] is False  # the unchecked pause switch
        assert profile["max_open_requests"] == 5
        page = await browser.get(response.headers["location"])
        assert "Ihr Profil ist gespeichert." in page.text

    async def test_german_validation_messages_next_to_the_fields(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser,
            "/profil",
            "/profil",
            {
                "name": "Anna",
                "email": "keine-adresse",
                "expertise": " ",
                "languages": "deutsch",
                "accepting_requests": "ja",
                "max_open_requests": "-1",
                "tags": ["x" * 61],
            },
        )
        assert response.status_code == 422
        text = text_of(response.text)
        assert "Bitte prüfen Sie Ihre Eingaben" in text
        assert "Bitte geben Sie eine gültige E-Mail-Adresse an" in text
        assert "Bitte füllen Sie dieses Feld aus." in text
        assert "„deutsch“ ist kein Sprachkürzel" in text
        assert "Bitte geben Sie mindestens 0 an." in text
        assert "Schlagwort 1: Bitte fassen Sie sich kürzer: höchstens 60 Zeichen." in text
        assert 'id="expertise-fehler"' in response.text
        described = "expertise-hinweis expertise-zaehler expertise-fehler"
        assert f'aria-describedby="{described}" aria-invalid="true"' in response.text
        # What was typed is kept.
        assert 'value="keine-adresse"' in response.text
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["email"] == member.body["email"]

    async def test_taken_email_is_a_friendly_message(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        await create_member(client, email="vergeben@example.org")
        member = await create_member(client)
        await sign_in(browser, member.token)
        page = await browser.get("/profil")
        form = {
            "name": member.body["name"],
            "email": "vergeben@example.org",
            "expertise": member.body["expertise"],
            "languages": "de",
            "accepting_requests": "ja",
            "max_open_requests": "3",
        }
        response = await browser.post("/profil", data={CSRF_FIELD: csrf_of(page.text), **form})
        assert response.status_code == 409
        assert "Es gibt schon ein Mitglied mit der E-Mail-Adresse vergeben@example.org." in (
            text_of(response.text)
        )


class TestQuestions:
    async def test_empty_question_is_explained(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(browser, "/fragen", "/fragen", {"title": "", "body": "Hallo"})
        assert response.status_code == 422
        assert 'href="#title">Titel: Bitte füllen Sie dieses Feld aus.' in response.text
        assert 'value="Hallo"' not in response.text  # the body is a textarea
        assert ">Hallo</textarea>" in response.text

    async def test_the_length_limit_reads_in_german_and_is_counted(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        form = await browser.get("/fragen")
        assert 'maxlength="10000"' in form.text
        assert "Höchstens 10.000 Zeichen." in text_of(form.text)
        assert 'aria-describedby="body-hinweis body-zaehler"' in form.text
        too_long = await post_form(
            browser, "/fragen", "/fragen", {"title": "Lang", "body": "x" * 10_001}
        )
        assert too_long.status_code == 422
        assert "höchstens 10.000 Zeichen" in text_of(too_long.text)

    async def test_suggestions_with_reasons_and_highlighted_passage(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, expert = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        page = await browser.get(question_page)
        assert page.status_code == 200
        assert "Bernd Berater" in page.text
        assert "Bonn (Hessen, Mittelstadt)" in text_of(page.text)
        assert "<mark>Bürgerrat</mark>" in page.text
        assert "Gemeinsame Schlagwörter" in page.text
        assert f'name="member_ids" value="{expert.id}"' in page.text
        # Listed among my questions.
        mine = await browser.get("/fragen")
        assert f'href="{question_page}">Bürgerrat per Los</a>' in mine.text

    async def test_inviting_nobody_is_explained(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, _ = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        response = await post_form(
            browser, question_page, f"{question_page}/einladen", {"message": "Hallo"}
        )
        assert response.status_code == 422
        assert "Bitte wählen Sie mindestens eine Kollegin oder einen Kollegen aus." in text_of(
            response.text
        )
        assert ">Hallo</textarea>" in response.text

    async def test_paused_colleague_is_a_friendly_409(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, expert = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        page = await browser.get(question_page)
        paused = await client.patch(
            f"/v1/members/{expert.id}", json={"accepting_requests": False}, headers=expert.headers
        )
        assert paused.status_code == 200
        response = await browser.post(
            f"{question_page}/einladen",
            data={CSRF_FIELD: csrf_of(page.text), "member_ids": [expert.id]},
        )
        assert response.status_code == 409
        assert "Bernd Berater nimmt gerade keine Anfragen an." in text_of(response.text)
        # The choice is kept for a second try.
        assert f'value="{expert.id}" checked' in response.text
        listed = await client.get("/v1/requests", headers=asker.headers)
        assert listed.json() == []

    async def test_forged_member_id_is_not_a_500(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, _ = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        response = await post_form(
            browser, question_page, f"{question_page}/einladen", {"member_ids": ["nicht-da"]}
        )
        assert response.status_code == 422
        assert "Diese Auswahl kennen wir nicht." in text_of(response.text)
        gone = await post_form(
            browser,
            question_page,
            f"{question_page}/einladen",
            {"member_ids": ["00000000-0000-4000-8000-000000000000"]},
        )
        assert gone.status_code == 404
        assert "Dieses Mitglied gibt es nicht (mehr)." in text_of(gone.text)


class TestRequests:
    async def _invited(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> tuple[CreatedMember, CreatedMember, str]:
        asker, expert = await _pair(client)
        await sign_in(browser, asker.token)
        question_page = await _ask(browser)
        response = await post_form(
            browser,
            question_page,
            f"{question_page}/einladen",
            {"member_ids": [expert.id], "message": "Hättest du nächste Woche Zeit?"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/anfragen?hinweis=eingeladen"
        listed = (await client.get("/v1/requests", headers=asker.headers)).json()
        return asker, expert, listed[0]["id"]

    async def test_outgoing_pending_can_be_withdrawn(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        _, _, request_id = await self._invited(client, browser)
        page = await browser.get("/anfragen")
        assert "ausstehend" in page.text
        response = await post_form(
            browser, "/anfragen", f"/anfragen/{request_id}/zurueckziehen", {}
        )
        assert response.status_code == 303
        page = await browser.get(response.headers["location"])
        assert "Sie haben die Anfrage zurückgezogen." in page.text
        assert "zurückgezogen" in text_of(page.text)
        again = await post_form(browser, "/anfragen", f"/anfragen/{request_id}/zurueckziehen", {})
        assert again.status_code == 409
        assert "Diese Anfrage ist bereits zurückgezogen." in text_of(again.text)

    async def test_incoming_can_be_declined(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        _, expert, request_id = await self._invited(client, browser)
        await sign_in(second_browser, expert.token)
        page = await second_browser.get("/anfragen")
        assert "Hättest du nächste Woche Zeit?" in page.text
        assert "von Anna Asker" in text_of(page.text)
        response = await post_form(
            second_browser, "/anfragen", f"/anfragen/{request_id}/ablehnen", {}
        )
        assert response.status_code == 303
        outgoing = await browser.get("/anfragen")
        assert "abgelehnt" in text_of(outgoing.text)
        assert "bernd@bonn.example" not in outgoing.text

    async def test_the_asker_cannot_accept_their_own_request(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        _, _, request_id = await self._invited(client, browser)
        response = await post_form(browser, "/anfragen", f"/anfragen/{request_id}/annehmen", {})
        assert response.status_code == 403
        assert "Das dürfen Sie leider nicht" in text_of(response.text)

    async def test_feedback_needs_a_rating(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        _, expert, request_id = await self._invited(client, browser)
        await sign_in(second_browser, expert.token)
        await post_form(second_browser, "/anfragen", f"/anfragen/{request_id}/annehmen", {})
        response = await post_form(
            browser, "/anfragen", f"/anfragen/{request_id}/rueckmeldung", {"comment": "gut"}
        )
        assert response.status_code == 422
        assert "Bitte wählen Sie aus, wie hilfreich die Beratung war." in text_of(response.text)
        assert ">gut</textarea>" in response.text
        out_of_range = await post_form(
            browser, "/anfragen", f"/anfragen/{request_id}/rueckmeldung", {"helpful": "9"}
        )
        assert out_of_range.status_code == 422
        assert "Bitte wählen Sie einen Wert von 1 bis 5." in text_of(out_of_range.text)


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


class TestFullFlow:
    async def test_ask_invite_accept_contact_feedback(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        asker, expert = await _pair(client)
        # A edits their tags, asks, and invites B.
        await sign_in(browser, asker.token)
        profile_page = await browser.get("/profil")
        saved = await browser.post(
            "/profil",
            data={
                CSRF_FIELD: csrf_of(profile_page.text),
                "name": "Anna Asker",
                "email": asker.body["email"],
                "role": "Beteiligungsbeauftragte",
                "expertise": asker.body["expertise"],
                "tags": ["Jugendbeteiligung", "Bürgerrat"],
                "languages": "de",
                "accepting_requests": "ja",
                "max_open_requests": "3",
            },
        )
        assert saved.status_code == 303
        question_page = await _ask(browser)
        invited = await post_form(
            browser,
            question_page,
            f"{question_page}/einladen",
            {"member_ids": [expert.id], "message": "Magst du mir von eurem Bürgerrat erzählen?"},
        )
        assert invited.status_code == 303
        after = await browser.get(question_page)
        assert "Eingeladen · ausstehend" in after.text

        # B signs in elsewhere and accepts.
        await sign_in(second_browser, expert.token)
        incoming = await second_browser.get("/anfragen")
        assert "Magst du mir von eurem Bürgerrat erzählen?" in incoming.text
        action = re.search(r'action="(/anfragen/[0-9a-f-]+/annehmen)"', incoming.text)
        assert action
        accepted = await second_browser.post(
            action.group(1), data={CSRF_FIELD: csrf_of(incoming.text)}
        )
        assert accepted.status_code == 303
        seen_by_b = await second_browser.get(accepted.headers["location"])
        assert f'href="mailto:{asker.body["email"]}"' in seen_by_b.text

        # A sees B's contact and gives feedback.
        outgoing = await browser.get("/anfragen")
        assert 'href="mailto:bernd@bonn.example"' in outgoing.text
        assert "angenommen" in text_of(outgoing.text)
        feedback = re.search(r'action="(/anfragen/[0-9a-f-]+/rueckmeldung)"', outgoing.text)
        assert feedback
        given = await browser.post(
            feedback.group(1),
            data={CSRF_FIELD: csrf_of(outgoing.text), "helpful": "5", "comment": "Sehr gut!"},
        )
        assert given.status_code == 303
        done = await browser.get(given.headers["location"])
        assert "Danke für Ihre Rückmeldung!" in done.text
        assert "Ihre Rückmeldung: 5 von 5 – sehr hilfreich" in text_of(done.text)
        assert 'action="/anfragen/' not in done.text.split('id="ausgehend"')[1]
        # The API sees the same state: the web used the same service functions.
        listed = (await client.get("/v1/requests", headers=asker.headers)).json()
        assert listed[0]["status"] == "accepted"
        assert listed[0]["feedback"]["helpful"] == 5


class TestSessionSecret:
    async def test_configured_secret_signs_the_session(
        self, client: httpx.AsyncClient, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        secret = "a-session-secret-of-the-operator-0123"
        member = await create_member(client)
        app = create_app(
            make_settings(session_secret=secret), embedder=fake_embedder, pool=db_pool.as_pool()
        )
        async with app.router.lifespan_context(app), browser_of(app) as browser:
            await sign_in(browser, member.token)
            cookie = session_cookie(browser)
        assert cookie
        body = URLSafeSerializer(secret, salt="peerconsult.web.cookie").loads(cookie)
        assert body["r"] == "member"
        assert member.id not in str(body) and member.token not in str(body)
        with pytest.raises(BadSignature):
            URLSafeSerializer(ADMIN_TOKEN, salt="peerconsult.web.cookie").loads(cookie)

    def test_short_secret_refuses_to_start(self) -> None:
        with pytest.raises(ValidationError, match="PEERCONSULT_SESSION_SECRET must be at least"):
            make_settings(session_secret="kurz")


class TestOddInput:
    async def test_control_characters_and_odd_bodies_are_not_a_500(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser, "/fragen", "/fragen", {"title": "Null\x00Byte", "body": "Frage\x00"}
        )
        assert response.status_code == 422
        assert "Titel: Der Text enthält ein unzulässiges Zeichen" in text_of(response.text)
        page = await browser.get("/fragen")
        odd = await browser.post(
            "/fragen",
            content=b"\xff\xfe not a form",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert odd.status_code in (400, 403)
        assert '<html lang="de">' in odd.text
        assert csrf_of(page.text)
