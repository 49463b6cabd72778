"""Who may open which page (api/web/auth.py): a session for every page but sign-in, the
member's pages for members, the coordinator's for the coordinator, one's own things only."""

from __future__ import annotations

import httpx
import pytest

from api.web.auth import CSRF_FIELD
from tests.helpers.api import create_member
from tests.helpers.app import ADMIN_TOKEN
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
        asker, expert = await asker_and_expert(client)
        await sign_in(browser, asker.token)
        question_page = await ask_on_the_page(browser)
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
