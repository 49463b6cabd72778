"""The browser session: a signed cookie, the per-session CSRF token, who is signed in.

The cookie never holds the access token. It holds, signed with a server secret (itsdangerous):
the CSRF token of the session and, once signed in, who it is with a binding to their current
token: for a member the SHA-256 of their token (what the database stores; the token itself has
256 random bits, so the hash reveals nothing), for the coordinator an HMAC of the admin token's
hash under the server secret. Every request checks the binding again, so rotating a token,
changing the admin token or erasing a member ends their browser sessions at once.

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
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from api.deps import Conn, SettingsDep
from service import auth
from service.config import Settings
from service.members import service as members_service

log = logging.getLogger(__name__)

COOKIE_NAME = "peerconsult_session"
CSRF_FIELD = "csrf_token"
# Signed-in sessions last a working day; the signature's timestamp decides, not the browser.
SESSION_MAX_AGE_SECONDS = 12 * 60 * 60
_SALT = "peerconsult.web.session"
COORDINATOR_SUBJECT = "coordinator"
_process_secret = secrets.token_bytes(32)

SomePrincipal = TypeVar("SomePrincipal", bound=auth.Principal)


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


class WebForbidden(Exception):
    """Signed in, but this page is for another role."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfRejected(Exception):
    """A form without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Session:
    csrf_token: str
    subject: str | None = None  # "coordinator", a member id, or None before sign-in
    binding: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.subject is not None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"c": self.csrf_token}
        if self.subject is not None:
            body["s"] = self.subject
            body["b"] = self.binding
        return body


def _server_secret(settings: Settings) -> bytes:
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


def _serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    serializer: URLSafeTimedSerializer | None = getattr(state, "web_session_serializer", None)
    if serializer is None:
        serializer = URLSafeTimedSerializer(_server_secret(state.settings), salt=_SALT)
        state.web_session_serializer = serializer
    return serializer


def new_session() -> Session:
    return Session(csrf_token=secrets.token_urlsafe(32))


def read_session(request: Request) -> Session | None:
    """The session of the cookie, if its signature is valid and it has not expired."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        body = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("c"), str):
        return None
    subject, binding = body.get("s"), body.get("b")
    if not (isinstance(subject, str) and isinstance(binding, str)):
        subject = binding = None
    return Session(csrf_token=body["c"], subject=subject, binding=binding)


def store_session(request: Request, response: Response, session: Session) -> None:
    # Secure: browsers treat http://localhost and http://127.0.0.1 as secure too, so local
    # development works; everywhere else the interface belongs behind HTTPS.
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(session.payload()),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="lax")


def _coordinator_binding(request: Request, admin_token: str) -> str:
    key = _serializer(request).secret_key
    return hmac.new(key, auth.hash_token(admin_token), hashlib.sha256).hexdigest()


def signed_in_session(request: Request, principal: auth.Principal, token: str) -> Session:
    """A fresh session (new CSRF token) for someone who has just shown a valid token."""
    fresh = new_session()
    if isinstance(principal, auth.CoordinatorPrincipal):
        return Session(fresh.csrf_token, COORDINATOR_SUBJECT, _coordinator_binding(request, token))
    return Session(fresh.csrf_token, str(principal.member_id), auth.hash_token(token).hex())


async def principal_of(
    request: Request, conn: Conn, settings: SettingsDep, session: Session | None
) -> auth.Principal | None:
    """Who the session belongs to, if its binding still holds."""
    if session is None or session.subject is None or session.binding is None:
        return None
    if session.subject == COORDINATOR_SUBJECT:
        admin = settings.admin_token
        if admin is None:
            return None
        expected = _coordinator_binding(request, admin.get_secret_value())
        return auth.COORDINATOR if hmac.compare_digest(expected, session.binding) else None
    try:
        member_id = UUID(session.subject)
        token_hash = bytes.fromhex(session.binding)
    except ValueError:
        return None
    principal = await members_service.authenticate_hash(conn, token_hash)
    if principal is None or principal.member_id != member_id:
        return None
    return principal


async def current_session(request: Request) -> Session | None:
    # async: a plain ``def`` dependency would run in the thread pool (see api/deps.py).
    return read_session(request)


MaybeSession = Annotated[Session | None, Depends(current_session)]


@dataclass(frozen=True, slots=True)
class Visitor(Generic[SomePrincipal]):
    """A signed-in person: the principal the services check, and the session of the page."""

    principal: SomePrincipal
    session: Session


async def signed_in(
    request: Request, conn: Conn, settings: SettingsDep, session: MaybeSession
) -> Visitor[auth.Principal]:
    principal = await principal_of(request, conn, settings, session)
    if principal is None or session is None:
        raise SignInRequired
    return Visitor(principal=principal, session=session)


SignedIn = Annotated[Visitor[auth.Principal], Depends(signed_in)]


async def member_visitor(visitor: SignedIn) -> Visitor[auth.MemberPrincipal]:
    if not isinstance(visitor.principal, auth.MemberPrincipal):
        raise WebForbidden(
            "Diese Seite ist für Mitglieder des Netzwerks. Als Koordination hast du kein "
            "eigenes Profil; du findest alles unter „Koordination“."
        )
    return Visitor(principal=visitor.principal, session=visitor.session)


async def coordinator_visitor(visitor: SignedIn) -> Visitor[auth.CoordinatorPrincipal]:
    if not isinstance(visitor.principal, auth.CoordinatorPrincipal):
        raise WebForbidden("Diese Seite ist nur für die Koordination des Netzwerks.")
    return Visitor(principal=visitor.principal, session=visitor.session)


MemberVisitor = Annotated[Visitor[auth.MemberPrincipal], Depends(member_visitor)]
CoordinatorVisitor = Annotated[Visitor[auth.CoordinatorPrincipal], Depends(coordinator_visitor)]


async def checked_form(request: Request, session: MaybeSession) -> FormData:
    """The submitted form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if (
        session is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode("utf-8"), session.csrf_token.encode("utf-8"))
    ):
        raise CsrfRejected
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
