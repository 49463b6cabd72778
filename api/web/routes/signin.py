"""Anmeldung with a link e-mailed to the member or with the personal access token; Abmeldung
here or everywhere."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, MailingDep, SettingsDep, client_of, count_attempt
from api.web import forms, messages
from api.web.rendering import WebRoute, redirect, render
from api.web.session import (
    COORDINATOR_SUBJECT,
    CheckedForm,
    MaybeSession,
    MemberVisitor,
    clear_session,
    coordinator_session,
    member_session,
    store_session,
)
from service import auth, metrics, throttle
from service.errors import TooManyRequests
from service.members import service as members_service
from service.signin import service as signin_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Only pages of this interface are followed after sign-in (no open redirect); a draft of a
# question may come along (``/fragen?entwurf=<id>``).
_NEXT = re.compile(
    r"^/(profil|fragen|anfragen|koordination)(/[A-Za-z0-9\-/]*)?(\?entwurf=[0-9a-f\-]{36})?$"
)


def _home(subject: str | None) -> str:
    if subject is None:
        return "/anmelden"
    return "/koordination" if subject == COORDINATOR_SUBJECT else "/fragen"


def safe_next(raw: str) -> str | None:
    """``raw`` if it is a page of this interface to go on to after signing in."""
    return raw if _NEXT.fullmatch(raw) else None


async def counted(request: Request, conn: Conn, settings: SettingsDep) -> int:
    """Count this request against its client (``throttle.count_attempt``); the seconds to wait
    if the client is blocked, else 0."""
    try:
        await count_attempt(request, conn, settings)
    except TooManyRequests as exc:
        return exc.retry_after
    return 0


@router.get("/")
async def start(session: MaybeSession) -> Response:
    """The start page: your first page, or the sign-in form."""
    return redirect(_home(session.subject if session else None))


def _page(
    request: Request,
    mailing: MailingDep,
    *,
    weiter: str,
    errors: messages.FormErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "signin.html",
        {
            "weiter": weiter,
            "errors": errors or messages.FormErrors(),
            "values": values or {},
            "links": mailing is not None,
        },
        status_code=status_code,
    )


@router.get("/anmelden")
async def sign_in_form(request: Request, mailing: MailingDep) -> Response:
    """The sign-in page: a link by e-mail, or the access token."""
    weiter = safe_next(request.query_params.get("weiter", "")) or ""
    return _page(request, mailing, weiter=weiter)


@router.post("/anmelden/link")
async def ask_for_link(
    request: Request,
    form: CheckedForm,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
) -> Response:
    """E-mail a sign-in link; the answer is the same whether the address is a member's."""
    weiter = safe_next(forms.text(form, "weiter")) or ""
    email = forms.text(form, "email").strip()
    errors = messages.FormErrors()
    if mailing is None:
        errors.add(
            "email",
            "Dieser Server verschickt keine E-Mails. Bitte melden Sie sich mit Ihrem "
            "Zugangsschlüssel an.",
        )
    elif "@" not in email or len(email) > 254:
        errors.add("email", "Bitte geben Sie Ihre E-Mail-Adresse an, z. B. name@kommune.de.")
    if errors:
        return _page(
            request,
            mailing,
            weiter=weiter,
            errors=errors,
            values={"email": email},
            status_code=422,
        )
    assert mailing is not None
    wait = await counted(request, conn, settings)
    if wait:
        errors.add("email", messages.too_many_submissions(wait))
        return _page(request, mailing, weiter=weiter, errors=errors, status_code=429)
    await signin_service.send_sign_in_link(conn, mailing, email, weiter=weiter or None)
    return render(request, "signin_link_sent.html", {"email": email})


@router.get("/anmelden/link/{secret}")
async def link_page(secret: str, request: Request, conn: Conn) -> Response:
    """The page a sign-in link opens: one button, so that a mail scanner fetching the link
    does not use it up."""
    weiter = safe_next(request.query_params.get("weiter", "")) or ""
    usable = len(secret) < 100 and await signin_service.usable(conn, secret)
    return render(
        request,
        "signin_link.html",
        {"secret": secret, "weiter": weiter, "usable": usable},
        status_code=200 if usable else 410,
    )


@router.post("/anmelden/link/{secret}")
async def sign_in_with_link(
    secret: str, request: Request, form: CheckedForm, conn: Conn
) -> Response:
    """Sign in with the link, which then ends."""
    weiter = safe_next(forms.text(form, "weiter")) or ""
    principal = None if len(secret) >= 100 else await signin_service.redeem(conn, secret)
    if principal is None:
        return render(
            request,
            "signin_link.html",
            {"secret": secret, "weiter": weiter, "usable": False},
            status_code=410,
        )
    session = await member_session(request, conn, principal.member_id)
    response = redirect(weiter or _home(session.subject))
    store_session(request, response, session)
    return response


@router.post("/anmelden")
async def sign_in(
    request: Request, form: CheckedForm, conn: Conn, settings: SettingsDep, mailing: MailingDep
) -> Response:
    """Check the token; on success a fresh session (new CSRF token) in the cookie."""
    token = forms.text(form, "token").strip()
    weiter = safe_next(forms.text(form, "weiter")) or ""

    def again(message: str, status_code: int) -> Response:
        errors = messages.FormErrors()
        errors.add("token", message)
        return _page(request, mailing, weiter=weiter, errors=errors, status_code=status_code)

    if not token:
        return again("Bitte geben Sie Ihren Zugangsschlüssel ein.", 422)
    client = client_of(request)
    until = await throttle.blocked_until(conn, client)
    if until is not None:
        return again(messages.too_many_attempts(messages.seconds_until(until)), 429)
    principal = await members_service.authenticate(conn, token, admin_token=settings.admin_token)
    if principal is None:
        metrics.FAILED_SIGN_INS.labels("web").inc()
        # This page answers without raising, so the request's transaction commits the count.
        until = await throttle.record_failure(
            conn,
            client,
            limit=settings.auth_failure_limit,
            window_seconds=settings.auth_failure_window_seconds,
        )
        if until is not None:
            return again(messages.too_many_attempts(messages.seconds_until(until)), 429)
        return again(
            "Dieser Zugangsschlüssel stimmt nicht. Bitte prüfen Sie ihn, oder lassen Sie sich "
            "einen Anmeldelink schicken.",
            401,
        )
    if isinstance(principal, auth.CoordinatorPrincipal):
        session = coordinator_session(request, token)
    else:
        session = await member_session(request, conn, principal.member_id)
    response = redirect(weiter or _home(session.subject))
    store_session(request, response, session)
    return response


@router.post("/abmelden")
async def sign_out(request: Request, form: CheckedForm) -> Response:
    """End the session."""
    response = redirect("/anmelden", notice="abgemeldet")
    clear_session(request, response)
    return response


@router.post("/abmelden/ueberall")
async def sign_out_everywhere(
    request: Request, conn: Conn, visitor: MemberVisitor, form: CheckedForm
) -> Response:
    """End every session of the member, on every device, this one included."""
    await members_service.end_sessions(conn, visitor.principal.member_id)
    response = redirect("/anmelden", notice="ueberall-abgemeldet")
    clear_session(request, response)
    return response
