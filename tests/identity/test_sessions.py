"""Browser sessions live on the server: signing out ends them for every copy of the cookie,
for members and for the coordinator (service/identity/sessions.py, api/web/auth.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.web.auth import CSRF_FIELD
from api.web.cookie import COOKIE_NAME
from service.embedding import Embedder
from tests.helpers.api import create_member
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.web import browser_of, csrf_of, post_form, sign_in


async def copied_cookie(browser: httpx.AsyncClient) -> str:
    cookie = browser.cookies.get(COOKIE_NAME)
    assert cookie
    return cookie


async def opens(app: FastAPI, cookie: str, page: str) -> int:
    """The status of ``page`` in another browser that holds a copy of ``cookie``."""
    async with browser_of(app) as thief:
        return (await thief.get(page, headers={"Cookie": f"{COOKIE_NAME}={cookie}"})).status_code


async def session_ends_elsewhere(app: FastAPI, token: str) -> None:
    """The member signs out everywhere from another device (as when a session runs out)."""
    async with browser_of(app) as other:
        await sign_in(other, token)
        await post_form(other, "/profil", "/abmelden/ueberall", {})


class TestSigningOut:
    async def test_a_members_copied_cookie_is_signed_out_with_the_member(
        self, app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        copy = await copied_cookie(browser)
        assert await opens(app, copy, "/profil") == 200
        await post_form(browser, "/profil", "/abmelden", {})
        assert await opens(app, copy, "/profil") == 303
        assert (await browser.get("/profil")).status_code == 303

    async def test_a_coordinators_copied_cookie_is_signed_out_too(
        self, app: FastAPI, browser: httpx.AsyncClient
    ) -> None:
        await sign_in(browser, ADMIN_TOKEN)
        copy = await copied_cookie(browser)
        assert await opens(app, copy, "/koordination") == 200
        await post_form(browser, "/koordination", "/abmelden", {})
        assert await opens(app, copy, "/koordination") == 303

    async def test_the_coordinator_ends_every_session_of_theirs(
        self, app: FastAPI, browser: httpx.AsyncClient
    ) -> None:
        await sign_in(browser, ADMIN_TOKEN)
        async with browser_of(app) as laptop:
            await sign_in(laptop, ADMIN_TOKEN)
            ended = await post_form(browser, "/koordination", "/abmelden/ueberall", {})
            assert ended.headers["location"] == "/anmelden?hinweis=ueberall-abgemeldet"
            assert (await laptop.get("/koordination")).status_code == 303
        assert (await sign_in(browser, ADMIN_TOKEN)).status_code == 303

    async def test_a_new_admin_token_ends_the_coordinators_sessions(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        secret = "the-same-session-secret-0123456789"

        def app_with(admin_token: str) -> FastAPI:
            settings = make_settings(admin_token=admin_token, session_secret=secret)
            return create_app(settings, embedder=fake_embedder, pool=db_pool.as_pool())

        before = app_with(ADMIN_TOKEN)
        async with before.router.lifespan_context(before), browser_of(before) as browser:
            await sign_in(browser, ADMIN_TOKEN)
            copy = await copied_cookie(browser)
            assert await opens(before, copy, "/koordination") == 200
        after = app_with("a-new-coordinator-token-9876543210")
        async with after.router.lifespan_context(after):
            assert await opens(after, copy, "/koordination") == 303

    async def test_a_new_token_ends_the_members_sessions(
        self, app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        rotated = await client.post(f"/v1/members/{member.id}/token", headers=member.headers)
        assert rotated.status_code == 200
        assert (await browser.get("/profil")).status_code == 303


class TestDrafts:
    async def test_a_stranger_cannot_store_a_draft(
        self, browser: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        sent = await post_form(
            browser, "/anmelden", "/fragen", {"title": "x" * 200, "body": "y" * 900_000}
        )
        assert sent.status_code == 303
        assert sent.headers["location"].startswith("/anmelden")
        assert "entwurf" not in sent.headers["location"]
        assert await db_pool.fetchval("SELECT count(*) FROM question_draft") == 0

    async def test_a_draft_beyond_a_questions_limits_is_not_kept(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        form = await browser.get("/fragen")
        await session_ends_elsewhere(app, member.token)
        token = csrf_of(form.text)
        for title in ("Null\x00Byte", "x" * 201):
            sent = await browser.post("/fragen", data={CSRF_FIELD: token, "title": title})
            assert sent.status_code == 303
            assert "entwurf" not in sent.headers["location"]
        assert await db_pool.fetchval("SELECT count(*) FROM question_draft") == 0

    async def test_a_draft_is_the_members_alone(
        self, app: FastAPI, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        other = await create_member(client)
        await sign_in(browser, member.token)
        form = await browser.get("/fragen")
        await session_ends_elsewhere(app, member.token)
        sent = await browser.post(
            "/fragen",
            data={CSRF_FIELD: csrf_of(form.text), "title": "Mein Entwurf", "body": "Text"},
        )
        [draft_page] = parse_qs(urlsplit(sent.headers["location"]).query)["weiter"]
        assert draft_page.startswith("/fragen?entwurf=")
        async with browser_of(app) as others_browser:
            await sign_in(others_browser, other.token)
            shown = await others_browser.get(draft_page)
            assert shown.status_code == 200
            assert "Mein Entwurf" not in shown.text
        await sign_in(browser, member.token)
        assert "Mein Entwurf" in (await browser.get(draft_page)).text
