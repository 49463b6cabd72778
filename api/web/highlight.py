"""Mark the words of a matched passage that also occur in the question."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from service.text import fold

_WORD = re.compile(r"\w+", re.UNICODE)
# A shared beginning this long counts as the same word: German inflects and compounds
# ("Bürgerräte" / "Bürgerrat", "Jugendbeteiligung" / "Jugendbeteiligungsprozess").
_STEM = 6
_MIN_WORD = 4
# Frequent German and English words that say nothing about a topic.
_STOPWORD_TEXT = """
    aber alle als also auch auf aus bei bin bis das dass dem den der des die dies diese diesem
    diesen dieser doch durch eine einem einen einer eines euch euer fuer gibt habe haben hat
    hatte hier ihr ihre im in ist jetzt kann koennen man mehr mit nach nicht noch nur oder ohne
    sehr sein seine sich sie sind so ueber um und uns unser unsere unter vom von vor war waren
    was wenn werden wie wir wird wo zu zum zur zwischen welche welcher welches wurde wurden
    with that this have from what which about there their would could should been were
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _key(word: str) -> str:
    return fold(word).replace(" ", "")


def question_words(text: str) -> set[str]:
    return {
        key
        for key in (_key(word) for word in _WORD.findall(text))
        if len(key) >= _MIN_WORD and key not in _STOPWORDS
    }


def _matches(key: str, words: set[str]) -> bool:
    if len(key) < _MIN_WORD or key in _STOPWORDS:
        return False
    if key in words:
        return True
    if len(key) < _STEM:
        return False
    stem = key[:_STEM]
    return any(len(word) >= _STEM and word[:_STEM] == stem for word in words)


def highlight(passage: str, question: str) -> Markup:
    """The passage, escaped, with the words it shares with the question in <mark>; the whole
    passage marked when no single word is shared (it matched by meaning)."""
    words = question_words(question)
    parts: list[str] = []
    marked = 0
    position = 0
    for match in _WORD.finditer(passage):
        parts.append(str(escape(passage[position : match.start()])))
        word = match.group()
        if _matches(_key(word), words):
            parts.append(f"<mark>{escape(word)}</mark>")
            marked += 1
        else:
            parts.append(str(escape(word)))
        position = match.end()
    parts.append(str(escape(passage[position:])))
    if not marked:
        return Markup("<mark>{}</mark>").format(passage)
    # Neighbouring marked words read as one phrase.
    return Markup(re.sub(r"</mark>(\s+)<mark>", r"\1", "".join(parts)))
