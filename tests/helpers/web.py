"""A browser-like client of the web interface, and reading its pages and forms."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import httpx
from fastapi import FastAPI

from api.web.auth import CSRF_FIELD
from api.web.cookie import COOKIE_NAME

# What Chromium sends when it opens a page or submits a form.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)
_CSRF = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


def browser_of(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies like a browser and does not follow redirects (over HTTPS:
    the session cookie is Secure)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(
        transport=transport, base_url="https://peerconsult", headers={"Accept": BROWSER_ACCEPT}
    )


def csrf_of(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF field on the page"
    return html.unescape(match.group(1))


def text_of(page: str) -> str:
    """The page's text without tags and with entities resolved, whitespace folded."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(without_tags))


async def sign_in(
    browser: httpx.AsyncClient, token: str, page: str = "/anmelden"
) -> httpx.Response:
    """Sign in with the token on the sign-in ``page`` (which may say where to go next)."""
    form = await browser.get(page)
    assert form.status_code == 200
    return await press_button(browser, form, "/anmelden", token=token)


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, data: Mapping[str, object]
) -> httpx.Response:
    """GET ``page``, take its CSRF token, POST ``data`` to ``action``."""
    shown = await browser.get(page)
    assert shown.status_code == 200, shown.text
    return await browser.post(action, data={CSRF_FIELD: csrf_of(shown.text), **data})


_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.DOTALL)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


async def press_button(
    browser: httpx.AsyncClient, page: httpx.Response, action: str | None = None, **typed: str
) -> httpx.Response:
    """Submit a form of ``page`` (the one posting to ``action``, or the only one) with its
    hidden fields and what was ``typed`` into it, as pressing its button does."""
    forms = [(html.unescape(found.group(1)), found.group(2)) for found in _FORM.finditer(page.text)]
    chosen = [form for form in forms if action is None or form[0] == action]
    assert len(chosen) == 1, f"forms on the page: {[form[0] for form in forms]}"
    target, content = chosen[0]
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(content)}
    return await browser.post(target, data={**fields, **typed})


def session_cookie(browser: httpx.AsyncClient) -> str | None:
    return browser.cookies.get(COOKIE_NAME)


async def follow_sign_in_link(app: FastAPI, path: str) -> httpx.Response:
    """Open the link in a fresh browser and press its button: the answer to the button."""
    async with browser_of(app) as browser:
        page = await browser.get(path)
        assert page.status_code == 200, page.text
        return await press_button(browser, page)
