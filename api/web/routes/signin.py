"""Anmeldung with the personal access token, and Abmeldung."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, SettingsDep
from api.web import forms, messages
from api.web.rendering import WebRoute, redirect, render
from api.web.session import (
    COORDINATOR_SUBJECT,
    CheckedForm,
    MaybeSession,
    clear_session,
    signed_in_session,
    store_session,
)
from service import throttle
from service.members import service as members_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Only pages of this interface are followed after sign-in (no open redirect).
_NEXT = re.compile(r"^/(profil|fragen|anfragen|koordination)(/[A-Za-z0-9\-/]*)?$")


def _home(subject: str | None) -> str:
    if subject is None:
        return "/anmelden"
    return "/koordination" if subject == COORDINATOR_SUBJECT else "/fragen"


def _safe_next(raw: str) -> str | None:
    return raw if _NEXT.fullmatch(raw) else None


@router.get("/")
async def start(session: MaybeSession) -> Response:
    """The start page: your first page, or the sign-in form."""
    return redirect(_home(session.subject if session else None))


@router.get("/anmelden")
async def sign_in_form(request: Request) -> Response:
    """The sign-in form."""
    weiter = _safe_next(request.query_params.get("weiter", "")) or ""
    return render(request, "signin.html", {"weiter": weiter})


@router.post("/anmelden")
async def sign_in(
    request: Request, form: CheckedForm, conn: Conn, settings: SettingsDep
) -> Response:
    """Check the token; on success a fresh session (new CSRF token) in the cookie."""
    token = forms.text(form, "token").strip()
    weiter = _safe_next(forms.text(form, "weiter")) or ""

    def again(message: str, status_code: int) -> Response:
        errors = messages.FormErrors()
        errors.add("token", message)
        return render(
            request, "signin.html", {"weiter": weiter, "errors": errors}, status_code=status_code
        )

    if not token:
        return again("Bitte gib deinen Zugangsschlüssel ein.", 422)
    client = throttle.client_key(request.client.host if request.client else "unknown")
    until = await throttle.blocked_until(conn, client)
    if until is not None:
        return again(messages.too_many_attempts(messages.seconds_until(until)), 429)
    principal = await members_service.authenticate(conn, token, admin_token=settings.admin_token)
    if principal is None:
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
            "Dieser Zugangsschlüssel stimmt nicht. Bitte prüfe ihn; die Koordination kann dir "
            "einen neuen ausstellen.",
            401,
        )
    session = signed_in_session(request, principal, token)
    response = redirect(weiter or _home(session.subject))
    store_session(request, response, session)
    return response


@router.post("/abmelden")
async def sign_out(form: CheckedForm) -> Response:
    """End the session."""
    response = redirect("/anmelden", notice="abgemeldet")
    clear_session(response)
    return response
