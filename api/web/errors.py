"""German error pages for what a browser asks outside the API: an unknown address, a form's
address opened as a page, a body too large, too many attempts, an unexpected error (with a
reference the coordinator finds in the log) and a database that is briefly away. The API
(``/v1/…``) and API clients keep problem+json (``api/errors.py``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web.rendering import WayOn, error_page

# Paths that are the API's or the operator's, whoever asks.
_NOT_PAGES = ("/v1/", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/")


def _parent(path: str) -> str:
    """The page above ``path`` (``/fragen/…/einladen`` → ``/fragen/…``; ``/abmelden`` → ``/``)."""
    parent = path.rstrip("/").rsplit("/", 1)[0]
    return parent or "/"


def _seconds(headers: dict[str, str] | None) -> str:
    wait = (headers or {}).get("Retry-After", "")
    return wait if wait.isdigit() else "einige"


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
        path = request.url.path
        if status == 404:
            return error_page(
                request,
                404,
                "Diese Seite gibt es nicht. Vielleicht ist der Link veraltet, oder die Adresse "
                "enthält einen Tippfehler.",
                headers=headers,
            )
        if status == 405:
            return error_page(
                request,
                405,
                "Diese Adresse nimmt nur ein abgeschicktes Formular entgegen. Öffnen Sie die "
                "Seite, auf der das Formular steht, und senden Sie es dort ab.",
                way_on=WayOn(_parent(path), "Zur Seite mit dem Formular"),
                headers=headers,
            )
        if status == 413:
            max_bytes = request.app.state.settings.max_body_bytes
            return error_page(
                request,
                413,
                f"Das Formular war zu groß (höchstens {max_bytes:,} Bytes).".replace(",", ".")
                + " Bitte kürzen Sie Ihren Text und senden Sie es noch einmal.",
                way_on=WayOn(path, "Zurück zum Formular"),
                headers=headers,
            )
        if status == 429:
            return error_page(
                request,
                429,
                f"Zu viele Versuche in kurzer Zeit. Bitte warten Sie {_seconds(headers)} "
                "Sekunden und versuchen Sie es dann noch einmal.",
                headers=headers,
            )
        if status == 503:
            return error_page(
                request,
                503,
                "peerconsult ist gerade kurz nicht erreichbar, zum Beispiel während eines "
                "Neustarts. Bitte versuchen Sie es in ein paar Sekunden noch einmal; Ihre "
                "Eingaben sind nicht verloren, wenn Sie im Browser zurückgehen.",
                headers=headers,
            )
        if status >= 500:
            return error_page(
                request,
                500,
                "Bei uns ist ein unerwarteter Fehler aufgetreten. Bitte versuchen Sie es noch "
                "einmal. Bleibt der Fehler, nennen Sie der Koordination des Netzwerks diese "
                f"Kennung: {reference or 'unbekannt'}. Damit findet sie den Eintrag im "
                "Protokoll.",
                headers=headers,
            )
        return error_page(
            request,
            status,
            "Diese Anfrage konnte nicht bearbeitet werden. Bitte versuchen Sie es noch einmal.",
            headers=headers,
        )
