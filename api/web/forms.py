"""Reading HTML form fields: text, repeated fields, checkboxes, numbers."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

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


def checkbox(form: FormData, name: str) -> bool:
    return text(form, name) != ""
