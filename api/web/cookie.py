"""The browser's cookie: signed (itsdangerous), HTTP-only, ``SameSite=Lax``. It holds the
page's CSRF token and, once signed in, the secret of a session that lives on the server
(``service.identity.sessions``) with the role it was started for, which the navigation shows.
It never holds an access token, and what it says about the role decides nothing: every page
asks the server's session.

The server secret is ``PEERCONSULT_SESSION_SECRET``; without it, one derived from
``PEERCONSULT_ADMIN_TOKEN`` (so several workers agree); without either, a random secret for
this process (sessions end on restart).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer

from service.config import Settings

log = logging.getLogger(__name__)

COOKIE_NAME = "peerconsult_session"
_SALT = "peerconsult.web.cookie"
_process_secret = secrets.token_bytes(32)


class Role(StrEnum):
    """Whom a session was started for (shown in the navigation; pages ask the server)."""

    member = "member"
    coordinator = "coordinator"


@dataclass(frozen=True, slots=True)
class Cookie:
    csrf_token: str
    # The server session's secret and its role, once signed in.
    secret: str | None = None
    role: Role | None = None

    @property
    def signed_in(self) -> bool:
        return self.secret is not None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"c": self.csrf_token}
        if self.secret is not None and self.role is not None:
            body["s"] = self.secret
            body["r"] = self.role.value
        return body


def server_secret(settings: Settings) -> bytes:
    # Settings refuses a short PEERCONSULT_SESSION_SECRET at start-up, like the admin token.
    configured = settings.session_secret
    if configured is not None:
        return configured.get_secret_value().encode("utf-8")
    if settings.admin_token is not None:
        return hmac.new(
            b"peerconsult web session secret",
            settings.admin_token.get_secret_value().encode("utf-8"),
            hashlib.sha256,
        ).digest()
    log.warning(
        "neither PEERCONSULT_SESSION_SECRET nor PEERCONSULT_ADMIN_TOKEN is set: web sessions "
        "use a random secret of this process and end when it restarts"
    )
    return _process_secret


def request_secret(request: Request) -> bytes:
    """The server secret of this application (computed once)."""
    state = request.app.state
    found: bytes | None = getattr(state, "web_server_secret", None)
    if found is None:
        found = state.web_server_secret = server_secret(state.settings)
    return found


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request_secret(request), salt=_SALT)


def fresh(secret: str | None = None, role: Role | None = None) -> Cookie:
    """A cookie with a new CSRF token (every sign-in gets one)."""
    return Cookie(csrf_token=secrets.token_urlsafe(32), secret=secret, role=role)


def read(request: Request) -> Cookie | None:
    """The cookie, if its signature is valid."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        body = _serializer(request).loads(raw)
    except BadSignature:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("c"), str):
        return None
    secret, role = body.get("s"), body.get("r")
    if isinstance(secret, str) and role in tuple(Role):
        return Cookie(csrf_token=body["c"], secret=secret, role=Role(role))
    return Cookie(csrf_token=body["c"])


def secure(request: Request) -> bool:
    """Whether the cookie is marked Secure (sent back over https only). With
    ``PEERCONSULT_COOKIE_SECURE=auto``: when this request came over https (directly, or as a
    trusted proxy says) or the public address is https. A Secure cookie set over plain http
    is dropped by the browser, and every sign-in would fail, as on an intranet installation."""
    settings: Settings = request.app.state.settings
    if settings.cookie_secure != "auto":
        return settings.cookie_secure == "true"
    public = settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def store(request: Request, response: Response, cookie: Cookie) -> None:
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(cookie.payload()),
        httponly=True,
        secure=secure(request),
        samesite="lax",
        path="/",
    )


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", secure=secure(request), httponly=True, samesite="lax"
    )
