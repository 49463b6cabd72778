"""The browser session: a signed cookie, the per-session CSRF token, who is signed in.

The cookie never holds the access token. It holds, signed with a server secret (itsdangerous):
the CSRF token of the session and, once signed in, who it is with a binding: for a member an
HMAC, under the server secret, of their id, their token's hash and their session epoch; for the
coordinator an HMAC of the admin token's hash. Every request checks the binding again, so
rotating a token, ending all sessions (the epoch rises), changing the admin token or erasing a
member ends their browser sessions at once. A member signs in with their token or with a link
e-mailed to them; the session is the same.

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
from service.db import Connection
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
    """Signed in, but this page is for another role (``for_role``: "member" or
    "coordinator")."""

    def __init__(self, message: str, *, for_role: str) -> None:
        super().__init__(message)
        self.message = message
        self.for_role = for_role


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


def secure_cookies(request: Request) -> bool:
    """Whether the session cookie is marked Secure (sent back over https only). With
    ``PEERCONSULT_COOKIE_SECURE=auto``: when this request came over https (directly, or as a
    trusted proxy says) or the public address is https. A Secure cookie set over plain http
    is dropped by the browser, and every sign-in would fail, as on an intranet installation."""
    settings: Settings = request.app.state.settings
    if settings.cookie_secure != "auto":
        return settings.cookie_secure == "true"
    public = settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def store_session(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(session.payload()),
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", secure=secure_cookies(request), httponly=True, samesite="lax"
    )


def _coordinator_binding(request: Request, admin_token: str) -> str:
    key = _serializer(request).secret_key
    return hmac.new(key, auth.hash_token(admin_token), hashlib.sha256).hexdigest()


def coordinator_session(request: Request, admin_token: str) -> Session:
    """A fresh session (new CSRF token) for the coordinator, who has just shown their token."""
    fresh = new_session()
    return Session(
        fresh.csrf_token, COORDINATOR_SUBJECT, _coordinator_binding(request, admin_token)
    )


def _member_binding(request: Request, member_id: UUID, keys: tuple[bytes, int]) -> str:
    token_hash, epoch = keys
    key = _serializer(request).secret_key
    text = f"{member_id}:{token_hash.hex()}:{epoch}".encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


async def member_session(request: Request, conn: Connection, member_id: UUID) -> Session:
    """A fresh session (new CSRF token) for a member who has just shown who they are (with
    their token or a sign-in link); the sign-in is recorded."""
    keys = await members_service.sign_in(conn, member_id)
    fresh = new_session()
    return Session(fresh.csrf_token, str(member_id), _member_binding(request, member_id, keys))


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
    except ValueError:
        return None
    keys = await members_service.session_keys(conn, member_id)
    if keys is None:
        return None
    expected = _member_binding(request, member_id, keys)
    if not hmac.compare_digest(expected, session.binding):
        return None
    return auth.MemberPrincipal(member_id=member_id)


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
            "Diese Seite ist für Mitglieder des Netzwerks. Als Koordination haben Sie kein "
            "eigenes Profil; Sie finden alles unter „Koordination“.",
            for_role="member",
        )
    return Visitor(principal=visitor.principal, session=visitor.session)


async def coordinator_visitor(visitor: SignedIn) -> Visitor[auth.CoordinatorPrincipal]:
    if not isinstance(visitor.principal, auth.CoordinatorPrincipal):
        raise WebForbidden(
            "Diese Seite ist nur für die Koordination des Netzwerks. Sind Sie die "
            "Koordination, melden Sie sich mit deren Zugang an; Sie kommen dann hierher zurück.",
            for_role="coordinator",
        )
    return Visitor(principal=visitor.principal, session=visitor.session)


async def member_or_nobody(
    request: Request, conn: Conn, settings: SettingsDep, session: MaybeSession
) -> Visitor[auth.MemberPrincipal] | None:
    """The signed-in member, or None when the session has ended (for a page that keeps what
    was sent until the member has signed in again)."""
    try:
        visitor = await signed_in(request, conn, settings, session)
    except SignInRequired:
        return None
    return await member_visitor(visitor)


MemberVisitor = Annotated[Visitor[auth.MemberPrincipal], Depends(member_visitor)]
MemberOrNobody = Annotated[Visitor[auth.MemberPrincipal] | None, Depends(member_or_nobody)]
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


async def form_of_ended_session(request: Request) -> FormData | None:
    """A form sent from a page of this browser's session though the session has expired: its
    CSRF token matches the cookie's, whose signature holds whatever its age. None otherwise.
    Only good for keeping what the person wrote until they have signed in again."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        body = _serializer(request).loads(raw)
    except BadSignature:
        return None
    csrf_token = body.get("c") if isinstance(body, dict) else None
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not (
        isinstance(csrf_token, str)
        and isinstance(sent, str)
        and hmac.compare_digest(sent.encode("utf-8"), csrf_token.encode("utf-8"))
    ):
        return None
    return form
