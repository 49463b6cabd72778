"""Frage stellen (api/web/routes/questions.py): the question form, the suggestions with their
reasons, inviting, and odd input."""

from __future__ import annotations

import asyncio

import httpx

from api.web.auth import CSRF_FIELD
from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    create_member,
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
    sign_in,
    text_of,
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
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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

    async def test_a_question_nobody_covers_says_so_and_sets_weak_fits_apart(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, _ = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        covered = text_of((await browser.get(await ask_on_the_page(browser))).text)
        assert "Passt gut" in covered
        assert "Dazu hat bisher niemand" not in covered and "Weniger passend" not in covered
        asked = await post_form(
            browser, "/fragen", "/fragen",
            {"title": "Glasfaser für alle Ortsteile", "body": "Wer hat Glasfaser verlegt?"},
        )  # fmt: skip
        gap = text_of((await browser.get(asked.headers["location"])).text)
        assert "Dazu hat bisher niemand im Netzwerk Erfahrung angegeben" in gap
        assert "Wer am nächsten kommt" in gap and "Passt kaum" in gap
        assert "Passt gut" not in gap
        assert "stellen die Frage mit anderen Worten" in gap
        # Someone who has done it joins: the page shows the network as it is now.
        await create_member(
            client, name="Greta Glas", municipality="Celle", tags=["Glasfaser"],
            expertise="Wir haben Glasfaser für alle Ortsteile verlegt und die Bürger informiert.",
        )  # fmt: skip
        now = text_of((await browser.get(asked.headers["location"])).text)
        assert "Inzwischen hat jemand passende Erfahrung angegeben" in now
        assert "Dazu hat bisher niemand" not in now
        assert now.index("Greta Glas") < now.index("Passt gut")

    async def test_inviting_nobody_is_explained(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        asker, _ = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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
        asker, _ = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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


class TestInvitingTwice:
    async def test_an_invitation_sent_twice_invites_once_and_quietly(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        _, client, mailbox = mailed
        asker = await create_member(client, municipality="Aachen")
        expert = await create_member(
            client, email="zweimal@bonn.example", municipality="Bonn", expertise=EXPERTISE
        )
        await sign_in(mailed_browser, asker.token)
        asked = await post_form(mailed_browser, "/fragen", "/fragen", QUESTION)
        question_page = asked.headers["location"]
        page = await mailed_browser.get(question_page)
        form = {"csrf_token": csrf_of(page.text), "member_ids": [expert.id], "message": ""}
        first, second = await asyncio.gather(
            mailed_browser.post(f"{question_page}/einladen", data=form),
            mailed_browser.post(f"{question_page}/einladen", data=form),
        )
        again = await mailed_browser.post(f"{question_page}/einladen", data=form)
        for response in (first, second, again):
            assert response.headers["location"] == "/anfragen?hinweis=eingeladen"
        await settled(mailbox, db_pool)
        assert len(mail_to(mailbox, "zweimal@bonn.example")) == 1
