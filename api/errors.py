"""Every error as application/problem+json (RFC 9457); never a 500 for bad input."""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.paths import allow_header, allowed_methods, route_template
from models.problems import FieldError, Problem
from service import metrics
from service.db import CONNECTION_LOST, DatabaseUnavailable
from service.errors import DomainError, InvalidToken, TooManyRequests
from service.identity import throttle

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=type_,
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        problem.body(), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its expected errors, documented in OpenAPI."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {}},
        }
        for status in statuses
    }


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        # Don't echo the whole input back (it may be large or personal); the field is enough.
        errors.append(FieldError(field=location, message=message, type=str(error.get("type"))))
    return errors


# What a stopped, restarting or unreachable PostgreSQL raises (connecting, or on a pooled
# connection that the server dropped).
DATABASE_DOWN: tuple[type[Exception], ...] = (DatabaseUnavailable, *CONNECTION_LOST)


def is_database_down(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_DOWN)


def database_unavailable() -> JSONResponse:
    return problem_response(
        503,
        "The database is not available right now; please try again shortly.",
        type_="/problems/database-unavailable",
        headers={"Retry-After": "5"},
    )


class Pages(Protocol):
    """Error pages for people in a browser (the web interface's, in German), where API
    clients get problem+json."""

    def wanted(self, request: Request) -> bool:
        """Whether this request is a browser's, outside the API."""

    def page(
        self,
        request: Request,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        reference: str | None = None,
    ) -> Response:
        """The page for ``status``; ``reference`` names a 500's entry in the log."""


def pages_for(pages: Pages | None, request: Request) -> Pages | None:
    """``pages`` when this request is a browser's outside the API, else None."""
    return pages if pages is not None and pages.wanted(request) else None


def install(app: FastAPI, pages: Pages | None = None) -> None:
    """The error handlers: problem+json, or with ``pages`` a page for a browser's request
    outside the API."""

    @app.exception_handler(InvalidToken)
    async def invalid_token(request: Request, exc: InvalidToken) -> JSONResponse:
        metrics.FAILED_SIGN_INS.labels("api").inc()
        budget = throttle.Budget.failed_sign_ins(request.app.state.settings)
        until = await throttle.record_failure(request.app.state.pool, budget, exc.client)
        return await domain_error(
            request, exc if until is None else throttle.too_many(until, what="wrong tokens")
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return problem_response(
            exc.status, exc.detail, type_=exc.type, title=exc.title, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        malformed = any(error.type == "json_invalid" for error in errors)
        detail = (
            "The request body is not valid JSON."
            if malformed
            else "Some fields are missing or invalid; see errors."
        )
        return problem_response(
            422, detail, type_="/problems/invalid-input", title="Invalid input", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            # Every method of the path, not only the one route the framework tried.
            headers["Allow"] = allow_header(allowed_methods(request.scope))
        if (browser := pages_for(pages, request)) is not None:
            return browser.page(request, exc.status_code, headers=headers or None)
        return problem_response(
            exc.status_code, str(exc.detail) if exc.detail else None, headers=headers or None
        )

    async def database_down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        if (browser := pages_for(pages, request)) is not None:
            return browser.page(request, 503, headers={"Retry-After": "5"})
        return database_unavailable()

    # Handled like the expected errors (not by the last-resort handler, which re-raises).
    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, database_down)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if is_database_down(exc):
            return await database_down(request, exc)
        # A reference the person who met the error can give the coordinator, to find this
        # entry in the log; the route template, never the concrete path (it holds ids).
        reference = secrets.token_hex(4)
        route = route_template(request.scope)
        log.exception("unexpected error %s on %s %s", reference, request.method, route)
        # The server closes the connection after an error it did not expect; saying so lets a
        # client with keep-alive open a new one rather than fail on the closed one.
        closing = {"Connection": "close"}
        if (browser := pages_for(pages, request)) is not None:
            return browser.page(request, 500, reference=reference, headers=closing)
        return problem_response(
            500, f"An unexpected error occurred (reference {reference}).", headers=closing
        )
