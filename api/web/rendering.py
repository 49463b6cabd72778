"""Pages: the templates, the layout's context (the cookie's CSRF token, the navigation, a
notice), the German filters for dates and numbers, and the security headers of every page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.web import cookie, messages, notices
from api.web.auth import CSRF_FIELD
from api.web.cookie import Cookie, Role
from models.common import MAX_LONG_TEXT, MAX_MESSAGE, MAX_SHORT_TEXT
from service.local_time import local

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR.parent / "templates"
STATIC_DIR = WEB_DIR.parent / "static"

templates = Jinja2Templates(directory=TEMPLATE_DIR)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _moment(value: datetime | str) -> datetime:
    """A time as the service keeps it, or as an export writes it (ISO 8601)."""
    return local(datetime.fromisoformat(value) if isinstance(value, str) else value)


def german_date(value: datetime | str | None) -> str:
    return "" if value is None else _moment(value).strftime("%d.%m.%Y")


def german_datetime(value: datetime | str | None) -> str:
    return "" if value is None else _moment(value).strftime("%d.%m.%Y, %H:%M Uhr")


templates.env.filters["datum"] = german_date
templates.env.filters["zeitpunkt"] = german_datetime
templates.env.filters["zahl"] = messages.german_number
# The longest texts the forms take (maxlength, and the counter beside a long text).
templates.env.globals["LIMITS"] = {
    "short": MAX_SHORT_TEXT,
    "message": MAX_MESSAGE,
    "long": MAX_LONG_TEXT,
}
templates.env.globals["STATUS_LABELS"] = messages.STATUS_LABELS
templates.env.globals["FIT_LABELS"] = messages.FIT_LABELS
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    held: Cookie | None = None,
) -> HTMLResponse:
    """A page. Every page carries a cookie with a CSRF token, so every form can be sent; a
    visitor without a valid cookie gets a fresh anonymous one (nothing is stored on the
    server for them)."""
    fresh = None
    if held is None:
        held = cookie.read(request)
        if held is None:
            held = fresh = cookie.fresh()
    notice_key = request.query_params.get("hinweis", "")
    page: dict[str, Any] = {
        "csrf_token": held.csrf_token,
        # The navigation follows the (signed) cookie; each page asks the server's session.
        "signed_in": held.signed_in,
        "is_coordinator": held.role == Role.coordinator,
        "notice": notices.NOTICES.get(notice_key),
        "errors": messages.FormErrors(),
        "values": {},
        "path": request.url.path,
    }
    page.update(context or {})
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if fresh is not None:
        cookie.store(request, response, fresh)
    return response


def redirect(
    path: str, *, notice: str | None = None, anchor: str | None = None
) -> RedirectResponse:
    """303 See Other after a POST (the browser then GETs ``path``, at ``anchor``)."""
    if notice is not None:
        path = f"{path}?{urlencode({'hinweis': notice})}"
    if anchor is not None:
        path = f"{path}#{anchor}"
    return RedirectResponse(path, status_code=303)
