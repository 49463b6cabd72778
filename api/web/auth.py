"""Who is on a page, as one typed dependency per kind of visitor: ``MemberVisitor``,
``CoordinatorVisitor``, ``SignedIn`` (either), and ``EndedSession`` (the member whose session
ran out, for a question they were writing); and the form's CSRF check, ``CheckedForm``.

A visitor is whoever the cookie's session names on the server (``service.identity.sessions``),
while that session holds. Signing in starts a session and gives the browser a fresh cookie with
a new CSRF token; signing out ends the session on the server.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.auth import client_of
from api.deps import Conn, SettingsDep
from api.web import cookie
from api.web.cookie import Cookie, Role
from service import identity
from service.config import Settings
from service.db import Connection
from service.errors import TooManyRequests
from service.identity import sessions, throttle

CSRF_FIELD = "csrf_token"

SomePrincipal = TypeVar("SomePrincipal", bound=identity.Principal)


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


class WebForbidden(Exception):
    """Signed in, but this page is for the other role."""

    def __init__(self, message: str, *, for_role: Role) -> None:
        super().__init__(message)
        self.message = message
        self.for_role = for_role


class CsrfRejected(Exception):
    """A form without the cookie's CSRF token."""


@dataclass(frozen=True, slots=True)
class Visitor(Generic[SomePrincipal]):
    """A signed-in person: the principal the services check, and the cookie of the page."""

    principal: SomePrincipal
    cookie: Cookie


async def _found(
    request: Request, conn: Connection, settings: Settings, held: Cookie | None
) -> sessions.Found | None:
    if held is None or held.secret is None:
        return None
    admin = settings.admin_token
    return await sessions.find(
        conn,
        held.secret,
        server_secret=cookie.request_secret(request),
        admin_token=None if admin is None else admin.get_secret_value(),
    )


async def current_cookie(request: Request) -> Cookie | None:
    # async: a plain ``def`` dependency would run in the thread pool (see api/deps.py).
    return cookie.read(request)


MaybeCookie = Annotated[Cookie | None, Depends(current_cookie)]


async def signed_in(
    request: Request, conn: Conn, settings: SettingsDep, held: MaybeCookie
) -> Visitor[identity.Principal]:
    found = await _found(request, conn, settings, held)
    if found is None or not found.live or held is None:
        raise SignInRequired
    return Visitor(principal=found.principal, cookie=held)


SignedIn = Annotated[Visitor[identity.Principal], Depends(signed_in)]


async def member_visitor(visitor: SignedIn) -> Visitor[identity.MemberPrincipal]:
    if not isinstance(visitor.principal, identity.MemberPrincipal):
        raise WebForbidden(
            "Diese Seite ist für Mitglieder des Netzwerks. Als Koordination haben Sie kein "
            "eigenes Profil; Sie finden alles unter „Koordination“.",
            for_role=Role.member,
        )
    return Visitor(principal=visitor.principal, cookie=visitor.cookie)


async def coordinator_visitor(visitor: SignedIn) -> Visitor[identity.CoordinatorPrincipal]:
    if not isinstance(visitor.principal, identity.CoordinatorPrincipal):
        raise WebForbidden(
            "Diese Seite ist nur für die Koordination des Netzwerks. Sind Sie die "
            "Koordination, melden Sie sich mit deren Zugang an; Sie kommen dann hierher zurück.",
            for_role=Role.coordinator,
        )
    return Visitor(principal=visitor.principal, cookie=visitor.cookie)


MemberVisitor = Annotated[Visitor[identity.MemberPrincipal], Depends(member_visitor)]
CoordinatorVisitor = Annotated[Visitor[identity.CoordinatorPrincipal], Depends(coordinator_visitor)]


def _csrf_holds(form: FormData, held: Cookie | None) -> bool:
    sent = form.get(CSRF_FIELD)
    return (
        held is not None
        and isinstance(sent, str)
        and hmac.compare_digest(sent.encode("utf-8"), held.csrf_token.encode("utf-8"))
    )


async def checked_form(request: Request, held: MaybeCookie) -> FormData:
    """The submitted form, after checking its CSRF token against the cookie's."""
    form = await request.form()
    if not _csrf_holds(form, held):
        raise CsrfRejected
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


@dataclass(frozen=True, slots=True)
class Ended:
    """A form sent from a page of a member's session that has ended since (expired, or signed
    out elsewhere): who the session was, and the form."""

    principal: identity.MemberPrincipal
    form: FormData


async def ended_session(
    request: Request, conn: Conn, settings: SettingsDep, held: MaybeCookie
) -> Ended | None:
    """The member whose session ended while they filled in the form, if the server knew that
    session and the form carries its CSRF token; None for anyone else. Only good for keeping
    what the member wrote until they have signed in again."""
    found = await _found(request, conn, settings, held)
    if found is None or found.live or not isinstance(found.principal, identity.MemberPrincipal):
        return None
    form = await request.form()
    if not _csrf_holds(form, held):
        return None
    return Ended(principal=found.principal, form=form)


EndedSession = Annotated[Ended | None, Depends(ended_session)]


async def optional_visitor(
    request: Request, conn: Conn, settings: SettingsDep, held: MaybeCookie
) -> Visitor[identity.Principal] | None:
    """The signed-in visitor, or None (a page anyone may open)."""
    try:
        return await signed_in(request, conn, settings, held)
    except SignInRequired:
        return None


MaybeVisitor = Annotated[Visitor[identity.Principal] | None, Depends(optional_visitor)]


async def email_request_wait(request: Request, conn: Connection, settings: Settings) -> int:
    """Count a request that sends e-mail (a sign-in link, an application) against its
    client's own budget (``throttle.EMAIL_REQUEST``); the seconds to wait once it is spent,
    else 0."""
    try:
        await throttle.spend(
            conn,
            throttle.Budget.email_requests(settings),
            client_of(request),
            what="requests for e-mail",
        )
    except TooManyRequests as exc:
        return exc.retry_after
    return 0


async def failed_sign_in_wait(request: Request, conn: Connection, settings: Settings) -> int:
    """Count a failed sign-in of this client; the seconds to wait if it is blocked now, else
    0. The page answers without raising, so the request's transaction commits the count."""
    until = await throttle.record_failure(
        conn, throttle.Budget.failed_sign_ins(settings), client_of(request)
    )
    return 0 if until is None else throttle.wait_seconds(until)


async def sign_in_member(request: Request, conn: Connection, member_id: UUID) -> Cookie:
    """Start a session for a member who has just shown who they are; the cookie to store."""
    secret = await sessions.start_for_member(conn, member_id)
    return cookie.fresh(secret, Role.member)


async def sign_in_coordinator(request: Request, conn: Connection, admin_token: str) -> Cookie:
    """Start a session for the coordinator, who has just shown the admin token."""
    secret = await sessions.start_for_coordinator(
        conn, server_secret=cookie.request_secret(request), admin_token=admin_token
    )
    return cookie.fresh(secret, Role.coordinator)


async def sign_out(request: Request, conn: Connection, response: Response) -> None:
    """End this browser's session on the server and clear its cookie."""
    held = cookie.read(request)
    if held is not None and held.secret is not None:
        await sessions.end(conn, held.secret)
    cookie.clear(request, response)
