"""Mark the words of a suggestion's passage that carry the question's meaning
(``service/matching/explain.py`` decides which)."""

from __future__ import annotations

import re
from collections.abc import Collection

from markupsafe import Markup, escape

from service.matching.explain import marked_spans


def highlight(passage: str, question: str, frequent: Collection[str] = ()) -> Markup:
    """The passage, escaped, with the words to mark in <mark>; neighbouring marked words read
    as one phrase. A passage that shares no such word (it matched by meaning) is shown as it
    is."""
    parts: list[str] = []
    position = 0
    for start, end in marked_spans(passage, question, frequent):
        parts.append(str(escape(passage[position:start])))
        parts.append(f"<mark>{escape(passage[start:end])}</mark>")
        position = end
    parts.append(str(escape(passage[position:])))
    return Markup(re.sub(r"</mark>(\s+)<mark>", r"\1", "".join(parts)))
