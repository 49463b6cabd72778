"""Reading HTML form fields (text, repeated fields, checkboxes) and submitting them to a
service call, with what went wrong as German messages beside the fields."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError
from starlette.datastructures import FormData

from api.web import messages
from service.db import Connection
from service.errors import DomainError

T = TypeVar("T")

_LIST_SEPARATORS = re.compile(r"[,;\s]+")


def text(form: FormData, name: str) -> str:
    """A text field; missing or a file upload reads as empty."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    """A repeated field (several inputs of one name), without the empty ones."""
    return [
        value.strip() for value in form.getlist(name) if isinstance(value, str) and value.strip()
    ]


def split_list(raw: str) -> list[str]:
    """ "de, en" or "de en" → ["de", "en"]."""
    return [part for part in _LIST_SEPARATORS.split(raw) if part]


def number(raw: str) -> int | str:
    """A whole number typed into a text field, or the text as typed (which the schema then
    refuses with its message)."""
    text = raw.strip()
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else text


def checkbox(form: FormData, name: str) -> bool:
    return text(form, name) != ""


@dataclass(frozen=True, slots=True)
class Refused:
    """A form that was not taken: the messages to show beside its fields, and the status of the
    page that shows them again."""

    errors: messages.FormErrors
    status_code: int


async def submit(
    conn: Connection,
    work: Callable[[], Awaitable[T]],
    *,
    refusals: tuple[type[DomainError], ...] = (),
    field: str = "form",
) -> T | Refused:
    """``work`` (reading the form into the API's schema and calling the service) in a
    savepoint of its own, so a refused form writes nothing. Invalid fields are refused with
    their German messages (422); a domain error of the kinds in ``refusals`` with its German
    message beside ``field`` and its status. Other errors reach the error page."""
    try:
        async with conn.transaction():
            return await work()
    except ValidationError as exc:
        return Refused(messages.validation_errors(exc), 422)
    except refusals as exc:
        errors = messages.FormErrors()
        errors.add(field, messages.domain_message(exc))
        return Refused(errors, exc.status)
