"""Expertise tags: the display form and the key under which tags are compared and counted.

``normalize_tag`` makes "Kinder- und Jugendbeteiligung", "jugendbeteiligung" and "Youth
participation" one key, and "Bürgerräte" the same key as "Bürgerrat". The key is for comparing
and counting only; people always see ``clean_tag``, the member's own spelling.

The key is built in four steps:

1. ``service.text.fold``: case, umlauts, ß, accents, hyphens and other separators.
2. Transliterated umlauts are reduced to the base vowel (``ue`` -> ``u``), so "Bürgerräte" (fold:
   "buergerraete") and the singular "Bürgerrat" ("buergerrat") meet after step 3; this is what the
   Snowball German stemmer does with umlauts too.
3. A light German/English suffix stemmer per word (plural and case endings only: -en, -e, -er,
   -n, -s, -innen, Latin -um/-en as in Forum/Foren, Gremium/Gremien), filler words dropped, and
   the words joined without spaces, so "Online-Beteiligung" == "Onlinebeteiligung".
4. A small synonym list of the field: names that mean the same instrument in different Länder or
   languages (Einwohnerantrag/Bürgerantrag, Bürgerversammlung/Einwohnerversammlung), and common
   English translations used by English-speaking members.
"""

from __future__ import annotations

import re
from functools import lru_cache

from service.text import fold

# Words that never carry a tag's meaning ("Kinder- und Jugendbeteiligung", "Leitlinien für ...").
_FILLER_WORDS = frozenset(
    {
        "und",
        "oder",
        "fur",
        "fuer",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "von",
        "vom",
        "im",
        "in",
        "zur",
        "zum",
        "mit",
        "am",
        "an",
        "auf",
        "bei",
        "ein",
        "eine",
        "einer",
        "and",
        "or",
        "of",
        "for",
        "the",
        "a",
        "on",
        "with",
        "to",
    }
)

# Groups of genuine synonyms: the same instrument or concept under different names (by Land,
# by tradition, or in English). Every spelling in a group gets the key of the first one.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    (
        "Jugendbeteiligung",
        "Kinder- und Jugendbeteiligung",
        "Jugendpartizipation",
        "Beteiligung von Jugendlichen",
        "youth participation",
        "youth engagement",
    ),
    ("Kinderbeteiligung", "Beteiligung von Kindern", "children's participation"),
    (
        "Bürgerhaushalt",
        "Beteiligungshaushalt",
        "Bürgerbudget",
        "participatory budgeting",
        "participatory budget",
    ),
    (
        "Leitlinien",
        "Beteiligungsleitlinien",
        "Leitlinien für Bürgerbeteiligung",
        "Leitlinien Bürgerbeteiligung",
        "participation guidelines",
    ),
    ("Beteiligungssatzung", "Bürgerbeteiligungssatzung", "Satzung für Bürgerbeteiligung"),
    ("Einwohnerantrag", "Bürgerantrag", "Einwohneranregung"),
    ("Einwohnerversammlung", "Bürgerversammlung", "town hall meeting"),
    ("Losverfahren", "Zufallsauswahl", "Losauswahl", "Zufallsbürger", "sortition"),
    ("Bürgerrat", "Bürgerräte", "citizens' assembly", "citizens assembly"),
    (
        "Online-Beteiligung",
        "digitale Beteiligung",
        "E-Partizipation",
        "E-Beteiligung",
        "online participation",
        "e-participation",
        "digital participation",
    ),
    (
        "Bürgerbeteiligung",
        "Partizipation",
        "Beteiligung",
        "citizen participation",
        "public participation",
    ),
    (
        "Gemeindeordnung",
        "Kommunalverfassung",
        "Kommunalordnung",
        "Kommunalrecht",
        "Kommunalverfassungsrecht",
    ),
    ("Bürgerbegehren", "Bürgerentscheid", "Bürgerbegehren und Bürgerentscheid"),
    ("Jugendgemeinderat", "Jugendparlament", "Jugendrat", "youth council"),
    ("Seniorenbeirat", "Seniorenrat", "Seniorenvertretung", "senior citizens' council"),
    ("Ortsbeirat", "Ortschaftsrat"),
    ("Stadtbezirksbeirat", "Bezirksbeirat"),
    ("Evaluation", "Evaluierung", "Wirkungsmessung"),
    ("Fortbildung", "Weiterbildung", "Schulung", "Qualifizierung", "training"),
    ("Moderation", "facilitation"),
    ("Windenergie", "Windkraft", "wind energy", "wind power"),
    ("Klimaschutz", "climate protection", "climate action"),
    ("Geflüchtete", "Flüchtlinge", "refugees"),
    ("Senioren", "ältere Menschen", "Seniorinnen und Senioren", "older people"),
    ("Inklusion", "inclusion"),
    ("Barrierefreiheit", "accessibility"),
    ("Leichte Sprache", "easy-to-read", "easy read"),
    ("ländlicher Raum", "ländliche Räume", "rural areas", "rural area"),
    ("Stadtentwicklung", "urban development"),
    ("Quartiersmanagement", "neighbourhood management", "neighborhood management"),
    ("Mobilität", "mobility"),
    ("Bebauungsplan", "B-Plan", "Bauleitplanung"),
    ("aufsuchende Beteiligung", "outreach"),
)

_UMLAUT_TRANSLITERATIONS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
# Plural and case endings, longest first; only removed when a stem of MIN_STEM letters remains.
_SUFFIXES = ("ern", "en", "em", "er", "es", "um", "e", "n", "s")
MIN_STEM = 4
_INNER_HYPHEN = re.compile(r"(?<=\w)[-‐‑](?=\w)")


def _stem(word: str) -> str:
    for written, base in _UMLAUT_TRANSLITERATIONS:
        word = word.replace(written, base)
    if word.endswith("innen") and len(word) - 3 >= MIN_STEM:
        return word[:-3]  # Bürgerinnen -> Bürgerin
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            if suffix == "s" and word.endswith("ss"):
                break  # Prozess, not a plural
            return word[: -len(suffix)]
    return word


def stems(text: str) -> list[str]:
    """The stemmed content words of a text, in order (filler words dropped)."""
    # A hyphen inside a word joins a compound ("Online-Beteiligung" == "Onlinebeteiligung"); a
    # trailing one ("Kinder- und Jugendbeteiligung") separates.
    text = _INNER_HYPHEN.sub("", text)
    words = re.sub(r"[^\w ]+", " ", fold(text)).split()
    return [_stem(word) for word in words if word not in _FILLER_WORDS]


def _raw_key(tag: str) -> str:
    return "".join(stems(tag))


_CANONICAL: dict[str, str] = {}
for _group in SYNONYMS:
    _target = _raw_key(_group[0])
    for _spelling in _group:
        _CANONICAL.setdefault(_raw_key(_spelling), _target)


def _canonical(raw_key: str) -> str:
    return _CANONICAL.get(raw_key, raw_key)


@lru_cache(maxsize=16384)
def normalize_tag(tag: str) -> str:
    """The key under which tags are compared and counted (not for display)."""
    raw = _raw_key(tag)
    if not raw:
        return fold(tag)
    return _canonical(raw)


def clean_tag(tag: str) -> str:
    """The display form: trimmed, inner whitespace collapsed, the member's own spelling."""
    return " ".join(tag.split())


@lru_cache(maxsize=4096)
def text_tag_keys(text: str, *, max_words: int = 4) -> frozenset[str]:
    """Tag keys of every run of 1..max_words content words in a text: a tag "occurs" in a
    question when its key is among them."""
    words = stems(text)
    keys: set[str] = set()
    for start in range(len(words)):
        for end in range(start + 1, min(start + max_words, len(words)) + 1):
            keys.add(_canonical("".join(words[start:end])))
    return frozenset(keys)


@lru_cache(maxsize=1024)
def _joined(text_keys: frozenset[str]) -> str:
    return "|".join(text_keys)


def tag_in_text(tag_key: str, text_keys: frozenset[str], *, min_compound: int = 8) -> bool:
    """Whether a tag key occurs in a text (given by ``text_tag_keys``): as a run of words, or
    (for long keys) inside a compound ("Altstadt" in "Fachwerkaltstadt")."""
    if tag_key in text_keys:
        return True
    return len(tag_key) >= min_compound and tag_key in _joined(text_keys)
