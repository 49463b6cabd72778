"""German error pages, the one way a browser is told that something went wrong: one title and
one text for each status (what happened, what the person can do now, and where), whether the
error came from the framework (an unknown address, a form's address opened as a page, a body
too large), from a page of the web interface (``api/web/route.py``) or from the last-resort
handler (an unexpected error, with a reference the coordinator finds in the log). A domain
error that says something particular ("Diese Frage gibt es nicht (mehr).") is shown with its
own German message instead of the status's text. The API (``/v1/…``) and API clients keep
problem+json (``api/errors.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.web.rendering import render

# Paths that are the API's or the operator's, whoever asks.
_NOT_PAGES = ("/v1/", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/")

TITLES = {
    400: "Das hat nicht geklappt",
    403: "Kein Zugriff",
    404: "Seite nicht gefunden",
    405: "Hier steht kein Formular",
    409: "Das geht gerade nicht",
    410: "Nicht mehr gültig",
    413: "Zu viel auf einmal",
    422: "Bitte prüfen Sie Ihre Eingaben",
    429: "Bitte warten Sie kurz",
    500: "Da ist etwas schiefgegangen",
    503: "peerconsult ist kurz nicht erreichbar",
}
_GENERAL = "Diese Anfrage konnte nicht bearbeitet werden. Bitte versuchen Sie es noch einmal."
TEXTS = {
    400: "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es noch einmal.",
    404: "Diese Seite gibt es nicht. Vielleicht ist der Link veraltet, oder die Adresse enthält "
    "einen Tippfehler.",
    405: "Diese Adresse nimmt nur ein abgeschicktes Formular entgegen. Öffnen Sie die Seite, auf "
    "der das Formular steht, und senden Sie es dort ab.",
    413: "Das Formular war zu groß (höchstens {max_bytes} Bytes). Bitte kürzen Sie Ihren Text "
    "und senden Sie es noch einmal.",
    422: "Bitte prüfen Sie Ihre Eingaben.",
    429: "Zu viele Versuche in kurzer Zeit. Bitte warten Sie {seconds} Sekunden und versuchen Sie "
    "es dann noch einmal.",
    500: "Bei uns ist ein unerwarteter Fehler aufgetreten. Bitte versuchen Sie es noch einmal. "
    "Bleibt der Fehler, nennen Sie der Koordination des Netzwerks diese Kennung: {reference}. "
    "Damit findet sie den Eintrag im Protokoll.",
    503: "peerconsult ist gerade kurz nicht erreichbar, zum Beispiel während eines Neustarts. "
    "Bitte versuchen Sie es in ein paar Sekunden noch einmal; Ihre Eingaben sind nicht "
    "verloren, wenn Sie im Browser zurückgehen.",
}


@dataclass(frozen=True)
class WayOn:
    """A link out of an error page, to where the person can go on."""

    href: str
    label: str


def _parent(path: str) -> str:
    """The page above ``path`` (``/fragen/…/einladen`` → ``/fragen/…``; ``/abmelden`` → ``/``)."""
    parent = path.rstrip("/").rsplit("/", 1)[0]
    return parent or "/"


def error_page(
    request: Request,
    status_code: int,
    message: str | None = None,
    *,
    title: str | None = None,
    way_on: WayOn | None = None,
    headers: Mapping[str, str] | None = None,
    reference: str | None = None,
) -> HTMLResponse:
    """The page for ``status_code``: its text (or ``message``, where the error says something
    particular), its title, and a way on where there is one."""
    if message is None:
        wait = (headers or {}).get("Retry-After", "")
        message = TEXTS.get(status_code, _GENERAL).format(
            max_bytes=f"{request.app.state.settings.max_body_bytes:,}".replace(",", "."),
            seconds=wait if wait.isdigit() else "einige",
            reference=reference or "unbekannt",
        )
    if way_on is None and status_code == 405:
        way_on = WayOn(_parent(request.url.path), "Zur Seite mit dem Formular")
    if way_on is None and status_code == 413:
        way_on = WayOn(request.url.path, "Zurück zum Formular")
    response = render(
        request,
        "error.html",
        {"title": title or TITLES.get(status_code, "Fehler"), "message": message, "way_on": way_on},
        status_code=status_code,
    )
    response.headers.update(headers or {})
    return response


class GermanErrorPages:
    """``api.errors.Pages`` for the web interface."""

    def wanted(self, request: Request) -> bool:
        path = request.url.path
        if path.startswith(_NOT_PAGES) or path in {"/healthz", "/metrics"}:
            return False
        return "text/html" in request.headers.get("accept", "")

    def page(
        self,
        request: Request,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        reference: str | None = None,
    ) -> Response:
        return error_page(
            request,
            500 if status > 500 and status != 503 else status,
            headers=headers,
            reference=reference,
        )
