"""Meine Anfragen (api/web/routes/requests.py): answering, withdrawing (each asked first, the
other side told), feedback, and the whole consultation from question to feedback."""

from __future__ import annotations

import re

import httpx

from api.web.auth import CSRF_FIELD
from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    CreatedMember,
    ask,
    create_member,
    invite,
)
from tests.helpers.database import TransactionPool
from tests.helpers.mail import Mailed, mail_to, settled
from tests.helpers.pages import (
    ask_on_the_page,
    asker_and_expert,
)
from tests.helpers.web import (
    csrf_of,
    post_form,
    press_button,
    sign_in,
    text_of,
)


class TestRequests:
    async def _invited(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> tuple[CreatedMember, CreatedMember, str]:
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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


class TestAnsweringRequests:
    async def _invited(self, client: httpx.AsyncClient) -> tuple[object, object, str]:
        asker = await create_member(client, name="Anna Asker", municipality="Aachen")
        expert = await create_member(
            client, name="Bernd Berater", email="bernd@bonn.example", municipality="Bonn",
            expertise=EXPERTISE,
        )  # fmt: skip
        question = await ask(client, asker, **QUESTION)
        response = await invite(client, asker, question, expert.id)
        return asker, expert, response.json()[0]["id"]

    async def test_declining_asks_first(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        _, client, _ = mailed
        _, expert, request_id = await self._invited(client)
        await sign_in(mailed_browser, expert.token)  # type: ignore[attr-defined]
        requests_page = await mailed_browser.get("/anfragen")
        assert f'href="/anfragen/{request_id}/ablehnen"' in requests_page.text
        asking = await mailed_browser.get(f"/anfragen/{request_id}/ablehnen")
        assert "Anfrage ablehnen?" in text_of(asking.text)
        declined = await press_button(mailed_browser, asking, f"/anfragen/{request_id}/ablehnen")
        assert declined.headers["location"] == "/anfragen?hinweis=abgelehnt"

    async def test_a_withdrawal_asks_first_and_reaches_the_colleague(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        asker, _, request_id = await self._invited(client)
        await sign_in(mailed_browser, asker.token)  # type: ignore[attr-defined]
        asking = await mailed_browser.get(f"/anfragen/{request_id}/zurueckziehen")
        assert "Anfrage zurückziehen?" in text_of(asking.text)
        withdrawn = await press_button(
            mailed_browser, asking, f"/anfragen/{request_id}/zurueckziehen"
        )
        assert withdrawn.headers["location"] == "/anfragen?hinweis=zurueckgezogen"
        await settled(mailbox, db_pool)
        subjects = [mail.message["Subject"] for mail in mail_to(mailbox, "bernd@bonn.example")]
        assert any(subject.startswith("Anfrage zurückgezogen") for subject in subjects)


class TestFullFlow:
    async def test_ask_invite_accept_contact_feedback(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        asker, expert = await asker_and_expert(client)
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
        question_page = await ask_on_the_page(browser)
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
