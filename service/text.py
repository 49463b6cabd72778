"""Normalization of German names and keywords, shared by tags and municipalities."""

from __future__ import annotations

import re
import unicodedata

_FOLD = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/.,;:'\"()]+")


def fold(text: str) -> str:
    """Case-, umlaut-, ß- and separator-insensitive key: 'Bad Homburg v.d. Höhe' and
    'bad-homburg v d hoehe' fold alike."""
    text = unicodedata.normalize("NFC", text).casefold()
    for letter, spelled in _FOLD:  # str.replace is many times faster than str.translate
        text = text.replace(letter, spelled)
    if not text.isascii():
        # Remaining accents (é, à, ...) lose their marks.
        text = "".join(
            char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
        )
    return _SEPARATORS.sub(" ", text).strip()
