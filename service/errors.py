"""Expected business errors. The API renders each as problem+json with its status."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(DomainError):
    status = 401
    title = "Not authenticated"
    type = "/problems/not-authenticated"


class InvalidToken(NotAuthenticated):
    """A token was presented and is wrong: counted against the client (service.throttle)."""

    def __init__(self, detail: str, *, client: str) -> None:
        super().__init__(detail)
        self.client = client


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class Unprocessable(DomainError):
    status = 422
    title = "Invalid input"
    type = "/problems/invalid-input"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    type = "/problems/too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
