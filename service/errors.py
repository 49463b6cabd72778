"""Expected business errors. The API renders each as problem+json with its status, its title,
and a type named after the title (``/problems/not-found``); the web pages say it in German."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type: ClassVar[str] = "about:blank"

    def __init_subclass__(
        cls, *, status: int | None = None, title: str | None = None, **kwargs: Any
    ) -> None:
        """A kind of error with its status and title (a subclass of a kind keeps both)."""
        super().__init_subclass__(**kwargs)
        if status is not None and title is not None:
            cls.status = status
            cls.title = title
            cls.type = "/problems/" + title.lower().replace(" ", "-")

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(DomainError, status=401, title="Not authenticated"):
    pass


class InvalidToken(NotAuthenticated):
    """A token was presented and is wrong: counted against the client (service.throttle)."""

    def __init__(self, detail: str, *, client: str) -> None:
        super().__init__(detail)
        self.client = client


class Forbidden(DomainError, status=403, title="Forbidden"):
    pass


class NotFound(DomainError, status=404, title="Not found"):
    pass


class Conflict(DomainError, status=409, title="Conflict"):
    pass


class Unprocessable(DomainError, status=422, title="Invalid input"):
    pass


class TooManyRequests(DomainError, status=429, title="Too many requests"):
    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError, status=503, title="Service unavailable"):
    """Something the service needs is not configured or not there (e-mail, for instance)."""
