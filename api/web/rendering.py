"""Templates, the page layout's context, and error pages instead of problem+json.

Every web route uses ``WebRoute``: whatever a person can cause (no session, a page of the other
role, a form without its CSRF token, a domain error such as "not accepting requests", a broken
form body, an unknown id) becomes a German page with the right status, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import errors as api_errors
from api.web import cookie, messages
from api.web.auth import CSRF_FIELD, CsrfRejected, SignInRequired, WebForbidden
from api.web.cookie import Cookie, Role
from models.common import MAX_LONG_TEXT, MAX_MESSAGE, MAX_SHORT_TEXT
from service.errors import DomainError
from service.local_time import local

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR.parent / "templates"
STATIC_DIR = WEB_DIR.parent / "static"

templates = Jinja2Templates(directory=TEMPLATE_DIR)

# Notes shown after a redirect, chosen by a fixed key (nothing from the URL is echoed).
NOTICES: dict[str, str] = {
    "profil": "Ihr Profil ist gespeichert.",
    "email-bestaetigen": "Ihr Profil ist gespeichert. Ihre neue E-Mail-Adresse gilt, sobald Sie "
    "sie mit dem Link bestätigt haben, den wir gerade an sie geschickt haben; bis dahin gilt die "
    "bisherige, und an diese haben wir einen Hinweis geschickt.",
    "eingeladen": "Ihre Einladung ist verschickt. Sie sehen sie unter „Meine Anfragen“.",
    "angenommen": "Sie haben die Anfrage angenommen. Unten steht, wie Sie einander erreichen.",
    "abgelehnt": "Sie haben die Anfrage abgelehnt.",
    "zurueckgezogen": "Sie haben die Anfrage zurückgezogen.",
    "rueckmeldung": "Danke für Ihre Rückmeldung!",
    "gespeichert": "Das Mitglied ist gespeichert.",
    "geloescht": "Das Mitglied und alle Daten zu ihm sind gelöscht.",
    "abgemeldet": "Sie sind abgemeldet.",
    "ueberall-abgemeldet": "Sie sind auf allen Geräten abgemeldet.",
    "konto-geloescht": "Ihr Konto und alle Daten dazu sind gelöscht. Danke, dass Sie dabei waren.",
    "entwurf": "Ihre Sitzung war abgelaufen. Ihre Frage ist aufbewahrt: Melden Sie sich wieder an, "
    "dann steht sie im Formular, und Sie können sie absenden.",
    "willkommen": "Die Willkommens-E-Mail mit dem Anmeldelink ist verschickt.",
    "aufgenommen": "Die Bewerbung ist angenommen; die neue Kollegin oder der neue Kollege hat "
    "eine Willkommens-E-Mail mit dem Anmeldelink bekommen.",
    "bewerbung-abgelehnt": "Die Bewerbung ist abgelehnt; die Person ist per E-Mail informiert.",
}

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
        "notice": NOTICES.get(notice_key),
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


def redirect(path: str, *, notice: str | None = None) -> RedirectResponse:
    """303 See Other after a POST (the browser then GETs ``path``)."""
    if notice is not None:
        path = f"{path}?{urlencode({'hinweis': notice})}"
    return RedirectResponse(path, status_code=303)


ERROR_TITLES = {
    400: "Das hat nicht geklappt",
    403: "Kein Zugriff",
    404: "Seite nicht gefunden",
    405: "Hier steht kein Formular",
    409: "Das geht gerade nicht",
    413: "Zu viel auf einmal",
    422: "Bitte prüfen Sie Ihre Eingaben",
    429: "Bitte warten Sie kurz",
    500: "Da ist etwas schiefgegangen",
    503: "peerconsult ist kurz nicht erreichbar",
}


@dataclass(frozen=True)
class WayOn:
    """A link out of an error page, to where the person can go on."""

    href: str
    label: str


def error_page(
    request: Request,
    status_code: int,
    message: str,
    *,
    title: str | None = None,
    way_on: WayOn | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "error.html",
        {
            "title": title or ERROR_TITLES.get(status_code, "Fehler"),
            "message": message,
            "way_on": way_on,
        },
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


def _sign_in_redirect(request: Request) -> RedirectResponse:
    query = ""
    if request.method == "GET":
        query = "?" + urlencode({"weiter": request.url.path})
    return RedirectResponse(f"/anmelden{query}", status_code=303)


def _way_on(request: Request, refused: WebForbidden) -> WayOn:
    """Where someone signed in with the wrong role goes on: the coordinator signs in again and
    comes back to the page; a coordinator on a member's page goes to Koordination."""
    if refused.for_role == Role.coordinator:
        back = urlencode({"weiter": request.url.path}) if request.method == "GET" else ""
        return WayOn(
            f"/anmelden?{back}" if back else "/anmelden",
            "Mit dem Zugang der Koordination anmelden",
        )
    return WayOn("/koordination", "Zur Koordination")


class WebRoute(APIRoute):
    """A route of the web interface: errors become German pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def web_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _sign_in_redirect(request)
            except WebForbidden as exc:
                return error_page(request, 403, exc.message, way_on=_way_on(request, exc))
            except CsrfRejected:
                return error_page(
                    request,
                    403,
                    "Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte laden Sie "
                    "die Seite neu und senden Sie es noch einmal.",
                    title="Formular abgelehnt",
                )
            except DomainError as exc:
                return error_page(request, exc.status, messages.domain_message(exc))
            except ValidationError as exc:
                found = messages.validation_errors(exc)
                text = " ".join(message for _, message in found.summary())
                return error_page(request, 422, text or "Bitte prüfen Sie Ihre Eingaben.")
            except StarletteHTTPException as exc:
                if exc.status_code == 404:
                    return error_page(request, 404, "Diese Seite gibt es nicht.")
                return error_page(
                    request,
                    exc.status_code if 400 <= exc.status_code < 500 else 400,
                    "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es noch einmal.",
                )
            except Exception as exc:
                if api_errors.is_database_down(exc):
                    log.warning("database unavailable: %s", type(exc).__name__)
                    response = error_page(
                        request,
                        503,
                        "Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es in ein "
                        "paar Sekunden noch einmal.",
                    )
                    response.headers["Retry-After"] = "5"
                    return response
                raise

        return web_handler
