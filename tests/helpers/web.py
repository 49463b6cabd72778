"""A browser-like client of the web interface, and reading its pages and forms."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import httpx
from fastapi import FastAPI

from api.web.session import COOKIE_NAME, CSRF_FIELD

_CSRF = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


def browser_of(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies like a browser and does not follow redirects (over HTTPS:
    the session cookie is Secure)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="https://peerconsult")


def csrf_of(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF field on the page"
    return html.unescape(match.group(1))


def text_of(page: str) -> str:
    """The page's text without tags and with entities resolved, whitespace folded."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(without_tags))


async def sign_in(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await browser.get("/anmelden")
    assert form.status_code == 200
    return await browser.post(
        "/anmelden", data={CSRF_FIELD: csrf_of(form.text), "token": token, "weiter": ""}
    )


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, data: Mapping[str, object]
) -> httpx.Response:
    """GET ``page``, take its CSRF token, POST ``data`` to ``action``."""
    shown = await browser.get(page)
    assert shown.status_code == 200, shown.text
    return await browser.post(action, data={CSRF_FIELD: csrf_of(shown.text), **data})


def session_cookie(browser: httpx.AsyncClient) -> str | None:
    return browser.cookies.get(COOKIE_NAME)
