"""Which methods the application answers at a path (a path's routes are one per method, so a
route knows only its own)."""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import Scope

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope) -> set[str]:
    """The methods the application answers at the scope's path (with HEAD where GET is, and
    OPTIONS), or none if no route has the path. Asked of the routes as the router asks them,
    one method at a time (included routers hold their routes in ways of their own)."""
    routes = getattr(scope.get("app"), "routes", ())
    methods = {
        method
        for method in _METHODS
        if any(
            route.matches({**scope, "method": method})[0] == Match.FULL
            for route in routes
            if not isinstance(route, Mount)  # a mounted application (static files) takes any
        )
    }
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else methods


def allow_header(methods: set[str]) -> str:
    return ", ".join(sorted(methods))


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/v1/members/{member_id}``), never the
    concrete path, which holds ids; "(no route)" when none did."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template or "(no route)"
