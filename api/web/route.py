"""The route class of every web page: whatever a person can cause (no session, a page of the
other role, a form without its CSRF token, a domain error such as "not accepting requests", a
broken form body, an unknown id, a database briefly away) becomes a German page with the right
status (``api/web/errors.py``), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import errors as api_errors
from api.web import messages
from api.web.auth import CsrfRejected, SignInRequired, WebForbidden
from api.web.cookie import Role
from api.web.errors import WayOn, error_page
from service.errors import DomainError

log = logging.getLogger(__name__)


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
                return error_page(request, 422, text or None)
            except StarletteHTTPException as exc:
                status = exc.status_code if 400 <= exc.status_code < 500 else 400
                return error_page(request, 404 if exc.status_code == 404 else status)
            except Exception as exc:
                if api_errors.is_database_down(exc):
                    log.warning("database unavailable: %s", type(exc).__name__)
                    return error_page(request, 503, headers={"Retry-After": "5"})
                raise

        return web_handler
