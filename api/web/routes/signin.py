"""Anmeldung with a link e-mailed to the member or with the personal access token; Abmeldung
here or everywhere."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, MailingDep, SettingsDep
from api.web import cookie, forms, messages
from api.web.auth import (
    CheckedForm,
    MaybeVisitor,
    SignedIn,
    email_request_wait,
    failed_sign_in_wait,
    sign_in_coordinator,
    sign_in_member,
    sign_out,
)
from api.web.cookie import Cookie, Role
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.common import storable
from service import identity, metrics
from service.identity import links, sessions, tokens

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Only pages of this interface are followed after sign-in (no open redirect); a draft of a
# question may come along (``/fragen?entwurf=<id>``).
_NEXT = re.compile(
    r"^/(profil|fragen|anfragen|koordination)(/[A-Za-z0-9\-/]*)?(\?entwurf=[0-9a-f\-]{36})?$"
)


def _home(role: Role | None) -> str:
    if role is None:
        return "/anmelden"
    return "/koordination" if role == Role.coordinator else "/fragen"


def safe_next(raw: str) -> str | None:
    """``raw`` if it is a page of this interface to go on to after signing in."""
    return raw if _NEXT.fullmatch(raw) else None


def _signed_in(request: Request, held: Cookie, weiter: str) -> Response:
    response = redirect(weiter or _home(held.role))
    cookie.store(request, response, held)
    return response


@router.get("/")
async def start(visitor: MaybeVisitor) -> Response:
    """The start page: your first page, or the sign-in form."""
    if visitor is None:
        return redirect(_home(None))
    coordinating = isinstance(visitor.principal, identity.CoordinatorPrincipal)
    return redirect(_home(Role.coordinator if coordinating else Role.member))


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
    elif "@" not in email or len(email) > 254 or not storable(email):
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
    wait = await email_request_wait(request, conn, settings)
    if wait:
        errors.add("email", messages.too_many_submissions(wait))
        return _page(request, mailing, weiter=weiter, errors=errors, status_code=429)
    await links.request_link(conn, email, next_page=weiter or None)
    return render(request, "signin_link_sent.html", {"email": email})


def _link_page(request: Request, secret: str, weiter: str, *, usable: bool, wait: int) -> Response:
    if wait:
        return render(
            request,
            "signin_link.html",
            {
                "secret": secret,
                "weiter": weiter,
                "usable": False,
                "wait_message": messages.too_many_attempts(wait),
            },
            status_code=429,
        )
    return render(
        request,
        "signin_link.html",
        {"secret": secret, "weiter": weiter, "usable": usable},
        status_code=200 if usable else 410,
    )


@router.get("/anmelden/link/{secret}")
async def link_page(secret: str, request: Request, conn: Conn, settings: SettingsDep) -> Response:
    """The page a sign-in link opens: one button, so that a mail scanner fetching the link
    does not use it up. A link that does not work counts as a failed sign-in."""
    weiter = safe_next(request.query_params.get("weiter", "")) or ""
    usable = await links.usable(conn, secret)
    wait = 0 if usable else await failed_sign_in_wait(request, conn, settings)
    return _link_page(request, secret, weiter, usable=usable, wait=wait)


@router.post("/anmelden/link/{secret}")
async def sign_in_with_link(
    secret: str, request: Request, form: CheckedForm, conn: Conn, settings: SettingsDep
) -> Response:
    """Sign in with the link, which then ends. A working link always signs in, whatever
    others at the same address did."""
    weiter = safe_next(forms.text(form, "weiter")) or ""
    principal = await links.redeem(conn, secret)
    if principal is None:
        wait = await failed_sign_in_wait(request, conn, settings)
        return _link_page(request, secret, weiter, usable=False, wait=wait)
    return _signed_in(request, await sign_in_member(request, conn, principal.member_id), weiter)


@router.post("/anmelden")
async def sign_in(
    request: Request, form: CheckedForm, conn: Conn, settings: SettingsDep, mailing: MailingDep
) -> Response:
    """Check the token; a valid one always signs in (a fresh session, a new CSRF token), a
    wrong one counts against the client."""
    token = forms.text(form, "token").strip()
    weiter = safe_next(forms.text(form, "weiter")) or ""

    def again(message: str, status_code: int) -> Response:
        errors = messages.FormErrors()
        errors.add("token", message)
        return _page(request, mailing, weiter=weiter, errors=errors, status_code=status_code)

    if not token:
        return again("Bitte geben Sie Ihren Zugangsschlüssel ein.", 422)
    principal = await tokens.authenticate(conn, token, admin_token=settings.admin_token)
    if principal is None:
        metrics.FAILED_SIGN_INS.labels("web").inc()
        wait = await failed_sign_in_wait(request, conn, settings)
        if wait:
            return again(messages.too_many_attempts(wait), 429)
        return again(
            "Dieser Zugangsschlüssel stimmt nicht. Bitte prüfen Sie ihn, oder lassen Sie sich "
            "einen Anmeldelink schicken.",
            401,
        )
    if isinstance(principal, identity.CoordinatorPrincipal):
        held = await sign_in_coordinator(request, conn, token)
    else:
        held = await sign_in_member(request, conn, principal.member_id)
    return _signed_in(request, held, weiter)


@router.post("/abmelden")
async def sign_out_here(request: Request, conn: Conn, form: CheckedForm) -> Response:
    """End this session (on the server: a copy of the cookie is signed out too)."""
    response = redirect("/anmelden", notice="abgemeldet")
    await sign_out(request, conn, response)
    return response


@router.post("/abmelden/ueberall")
async def sign_out_everywhere(
    request: Request, conn: Conn, visitor: SignedIn, form: CheckedForm
) -> Response:
    """End every session of the member, or of the coordinator, on every device, this one
    included (a member's sign-in links not used yet end too)."""
    await sessions.end_all(conn, visitor.principal)
    response = redirect("/anmelden", notice="ueberall-abgemeldet")
    await sign_out(request, conn, response)
    return response
