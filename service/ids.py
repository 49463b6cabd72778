"""Ids as clients send them: a resource's id is a UUID, and anything else names none."""

from __future__ import annotations

from uuid import UUID

from service.errors import NotFound

# How much of a sent id an answer quotes back (an id may be anything a client sends).
SHOWN_CHARACTERS = 40


def shown(raw: str) -> str:
    """``raw`` quoted for a message, cut to a short prefix."""
    if len(raw) > SHOWN_CHARACTERS:
        return repr(raw[:SHOWN_CHARACTERS]) + "…"
    return repr(raw)


def parse(raw: str, kind: str) -> UUID:
    """The id of a ``kind`` ("member", "question", "request"); 404 if it cannot be one."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No {kind} with id {shown(raw)}.") from None
