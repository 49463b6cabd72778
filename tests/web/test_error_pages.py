"""What a browser gets when something goes wrong outside the API: German pages with a way on;
the API (and API clients anywhere) keep problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from api.web import errors as web_errors
from service.members import service as members_service
from tests.helpers.api import PROBLEM, create_member
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.web import post_form, sign_in, text_of

HTML = "text/html"


def assert_page(response: httpx.Response, status: int, *phrases: str) -> str:
    """A German HTML page with this status that says each of ``phrases``; its text."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(HTML)
    assert '<html lang="de">' in response.text
    text = text_of(response.text)
    for phrase in phrases:
        assert phrase in text, text
    return text


class TestUnknownAddresses:
    async def test_a_browser_gets_a_german_page(self, browser: httpx.AsyncClient) -> None:
        assert_page(await browser.get("/gibt-es-nicht"), 404, "Diese Seite gibt es nicht.")

    async def test_api_paths_keep_problem_json(self, browser: httpx.AsyncClient) -> None:
        response = await browser.get("/v1/gibt-es-nicht")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_api_clients_keep_problem_json_everywhere(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/gibt-es-nicht", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)


class TestFormAddresses:
    @pytest.mark.parametrize(
        ("path", "way_on"),
        [
            ("/abmelden", "/"),
            (
                "/fragen/0f8fad5b-d9cb-469f-a165-70867728950e/einladen",
                "/fragen/0f8fad5b-d9cb-469f-a165-70867728950e",
            ),
        ],
    )
    async def test_opening_a_forms_address_leads_to_the_form(
        self, browser: httpx.AsyncClient, path: str, way_on: str
    ) -> None:
        response = await browser.get(path)
        assert_page(response, 405, "nimmt nur ein abgeschicktes Formular entgegen")
        assert "POST" in response.headers["allow"]
        assert f'href="{way_on}"' in response.text


class TestLargeBodies:
    async def test_a_form_too_large_says_so_in_german(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(
            browser, "/fragen", "/fragen", {"title": "Lang", "body": "x" * 1_100_000}
        )
        assert_page(response, 413, "Das Formular war zu groß (höchstens 1.000.000 Bytes).")
        assert 'href="/fragen"' in response.text


class TestUnexpectedErrors:
    async def test_the_page_names_the_log_entry(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(members_service, "get_member", broken)
        with caplog.at_level(logging.ERROR, logger="api.errors"):
            response = await browser.get("/profil")
        text = assert_page(response, 500, "Bei uns ist ein unerwarteter Fehler aufgetreten.")
        assert response.headers["connection"] == "close"
        reference = re.search(r"diese Kennung: ([0-9a-f]{8})", text)
        assert reference is not None, text
        assert any(reference.group(1) in record.getMessage() for record in caplog.records)

    async def test_a_database_away_is_a_short_wait(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)

        async def away(*args: Any, **kwargs: Any) -> None:
            raise ConnectionRefusedError("the database restarts")

        monkeypatch.setattr(members_service, "get_member", away)
        response = await browser.get("/profil")
        assert_page(response, 503, web_errors.TEXTS[503])
        assert response.headers["retry-after"] == "5"


class TestOneTextPerStatus:
    async def test_a_page_nobody_has_says_what_an_address_nobody_has_says(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        """A 404 reads the same whether the router found no route or a page found no id."""
        member = await create_member(client)
        await sign_in(browser, member.token)
        assert_page(await browser.get("/gibt-es-nicht"), 404, web_errors.TEXTS[404])
        assert_page(await browser.get("/fragen/keine-id"), 404, web_errors.TEXTS[404])


class TestWrongRole:
    async def test_a_coordinator_signed_in_as_member_is_offered_to_switch(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        page = f"/koordination/mitglieder/{member.id}"
        refused = await browser.get(page)
        assert_page(refused, 403, "nur für die Koordination")
        switch = re.search(r'href="(/anmelden\?weiter=[^"]+)"', refused.text)
        assert switch is not None
        back = await sign_in(browser, ADMIN_TOKEN, page=switch.group(1).replace("&amp;", "&"))
        assert back.headers["location"] == page
        assert (await browser.get(page)).status_code == 200
