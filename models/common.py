"""Shared schema pieces: strict input, bounded strings."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

MAX_TAGS = 30
MAX_QUESTION_TAGS = 10
MAX_LANGUAGES = 10


def storable(text: str) -> bool:
    """Whether PostgreSQL can store the text: no NUL character, and no lone surrogate (JSON's
    ``"\\ud800"`` decodes to one, and it has no UTF-8 form)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str) and not storable(value):
        raise ValueError("must not contain NUL characters or lone surrogates")
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class Text(BaseModel):
    """Text that PostgreSQL can store: no NUL characters or lone surrogates anywhere (a clear
    422, not a 500)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class Input(Text):
    """Request bodies: unknown fields are an error, strings are trimmed, and types are strict
    (``"true"`` is no boolean, ``true`` and ``"5"`` no integer: ``Integer``). The web forms,
    whose fields are all text, validate with ``strict=False`` and read numbers themselves."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def integer_only(value: Any) -> Any:
    """Refuse what strict=False would coerce to an integer: a string or a truth value."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An integer as JSON Schema has it: a number without a fraction (``3`` or ``3.0``), never a
# string or a truth value. Strict validation alone refused ``3.0``, which the schema allows.
# Bounds go on the field (``Field(ge=…)``), or before the validator in an alias of their own:
# after it, the schema would not show them.
Integer = Annotated[int, Field(strict=False), BeforeValidator(integer_only)]


# No NUL character (PostgreSQL cannot store one): the validator above says so in words, this
# pattern tells the OpenAPI schema, so that generated input and the server agree.
NO_NUL = r"^[^\x00]*$"
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def visible(value: str) -> str:
    """A required text holds something to read, not only spaces or invisible characters (a
    zero-width space is not a profile)."""
    if not any(unicodedata.category(char) not in _INVISIBLE for char in value):
        raise ValueError("must contain visible characters")
    return value


# The longest texts: a name or title, a message, a question or a description of expertise.
MAX_SHORT_TEXT = 200
MAX_MESSAGE = 2_000
MAX_LONG_TEXT = 10_000

ShortText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_SHORT_TEXT, pattern=NO_NUL
    ),
    AfterValidator(visible),
]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=NO_NUL),
    AfterValidator(visible),
]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}$")
]


def _canonical_id(value: str) -> str:
    return str(UUID(value))


# An id as a client sends it in a body: a UUID (any case, with or without hyphens), given back
# in its canonical form; anything else is invalid input (422), not an unknown id (404).
UUID_PATTERN = r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$"
Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=UUID_PATTERN),
    AfterValidator(_canonical_id),
]
