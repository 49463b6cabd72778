"""The German web interface for members and the coordinator, served by the same application.

Server-rendered pages (Jinja2) that call the same service functions as the JSON API, so the
API's rules apply unchanged. ``router`` holds every page; ``STATIC_DIR`` the stylesheet;
``GermanErrorPages`` the error pages a browser gets outside the API.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.errors import GermanErrorPages
from api.web.rendering import STATIC_DIR
from api.web.routes import (
    applications,
    coordination,
    imports,
    insights,
    joining,
    open_questions,
    outcomes,
    own_data,
    profile,
    questions,
    requests,
    signin,
)

router = APIRouter(include_in_schema=False)
for _pages in (
    signin,
    joining,
    profile,
    own_data,
    questions,
    open_questions,
    outcomes,
    requests,
    coordination,
    imports,
    insights,
    applications,
):
    router.include_router(_pages.router)

__all__ = ["STATIC_DIR", "GermanErrorPages", "router"]
