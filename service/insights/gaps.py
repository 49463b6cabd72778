"""Which of the gap questions are about one topic, and what to call the topic.

Whether a question is a gap is the fit model's decision (``service/matching/fit.py``); this
module only groups and names. Pure: plain values in, groups and labels out.

**Topic terms.** A question's topic terms are language-neutral keys: its own tags, the terms of
the network's vocabulary (its members' tags and the field's synonym list, which maps English
names to German ones) that stand in its text, and the nouns of its text (German capitalizes
them; a hyphenated compound counts by its parts too). Words every administration uses
(``explain.GENERIC_WORDS``) are no topic. Two terms are one when their keys are equal, or when
one begins the other and is at least ``COMPOUND_HEAD`` letters long ("Glasfaser" and
"Glasfasernetz").

**Groups.** Questions are grouped by average-linkage clustering of their embeddings' cosine
similarity, cut where a group's questions are on average less alike than ``SAME_TOPIC``; two
questions that share no topic term are never alike, however close their embeddings: questions
in one language share much of their embedding, but a village budget and a youth council share
no term.

**Labels.** One to three terms, German where the network's vocabulary has a German name: those
most of a group's questions share first; among equals a question's own tag before a vocabulary
term before a noun of a title before one of a body, then in the order the question names them.
Of two terms that begin alike only the shorter, more general one is named ("Breitband", not
also "Breitbandausbau").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from service.matching import explain
from service.matching.tags import SYNONYMS, normalize_tag, stems, tag_in_text, text_tag_keys

# With the default model, three questions on broadband roll-out (pairwise cosine 0.36-0.65)
# form one group at 0.42; two development questions on different topics have a median cosine
# of 0.32 (related ones, such as participation guidelines and statutes, up to 0.59, which may
# then form one broader gap when they share a term).
SAME_TOPIC = 0.42
LABEL_TERMS = 3
COMPOUND_HEAD = 6

# Where a term comes from, most telling first.
TAG, VOCABULARY, TITLE, BODY = range(4)

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
# The German name of each synonym group, by key (its first spelling).
_GERMAN = {normalize_tag(group[0]): group[0] for group in SYNONYMS}


@dataclass(slots=True)
class Terms:
    """A question's topic terms: key -> (where from, the term as shown)."""

    found: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, key: str, source: int, shown: str) -> None:
        if not key or explain.is_generic(shown) or key in _GENERIC_KEYS:
            return
        known = self.found.get(key)
        if known is None or source < known[0]:
            self.found[key] = (source, shown)


_GENERIC_KEYS = frozenset(
    key for key in (normalize_tag(word) for word in explain.GENERIC_WORDS) if key
)


def same_term(a: str, b: str) -> bool:
    """Two term keys name one topic: equal, or one begins the other and is long enough to be
    the head of a compound."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= COMPOUND_HEAD and longer.startswith(shorter)


def _nouns(text: str, *, title: bool) -> list[str]:
    """The nouns of a text as written (capitalized words of at least four letters that carry
    meaning; at a body's sentence start only long ones), and the parts of hyphenated ones."""
    found: list[str] = []
    starts = set() if title else explain.sentence_starts(text)
    for match in _WORD.finditer(text):
        word = match.group()
        if match.start() in starts and len(word) < explain.LONG_WORD:
            continue
        parts = [word, *word.split("-")] if "-" in word else [word]
        for part in parts:
            folded = explain.key(part)
            if (
                part[:1].isupper()
                and len(folded) >= explain.MIN_WORD
                and folded not in explain.STOP_WORDS
                and folded not in explain.GENERIC_WORDS
            ):
                found.append(part)
    return found


def topic_terms(title: str, body: str, tags: Sequence[str], vocabulary: Mapping[str, str]) -> Terms:
    """A question's topic terms; ``vocabulary``: the network's tag keys and how they are shown
    (the synonym list's German names are added to it)."""
    terms = Terms()
    for tag in tags:
        key = normalize_tag(tag)
        terms.add(key, TAG, _GERMAN.get(key) or vocabulary.get(key) or " ".join(tag.split()))
    text_keys = text_tag_keys(f"{title}\n{body}")
    for key, shown in {**vocabulary, **_GERMAN}.items():
        if tag_in_text(key, text_keys):
            terms.add(key, VOCABULARY, shown)
    for source, text in ((TITLE, title), (BODY, body)):
        for noun in _nouns(text, title=source == TITLE):
            key = "".join(stems(noun))
            terms.add(key, source, noun)
    return terms


def _shares_a_term(a: Terms, b: Terms) -> bool:
    return any(same_term(x, y) for x in a.found for y in b.found)


def topics(
    vectors: npt.NDArray[np.float32], terms: Sequence[Terms], same_topic: float = SAME_TOPIC
) -> list[list[int]]:
    """Groups of questions (rows of ``vectors``, with their ``terms``) about one topic, largest
    first, each in row order."""
    count = len(vectors)
    if count == 0:
        return []
    if count == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    unit = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    unit = np.divide(unit, norms, out=np.zeros_like(unit), where=norms > 0)
    distance = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    for i in range(count):
        distance[i, i] = 0.0
        for j in range(i + 1, count):
            if not _shares_a_term(terms[i], terms[j]):
                distance[i, j] = distance[j, i] = 2.0
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - same_topic, criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, group in enumerate(labels):
        groups.setdefault(int(group), []).append(index)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def label(terms: Sequence[Terms]) -> str:
    """What a group of questions (their ``terms``) is about, in one to three terms."""
    candidates: dict[str, tuple[int, str]] = {}
    position: dict[str, int] = {}
    for question in terms:
        for index, (key, (source, shown)) in enumerate(question.found.items()):
            known = candidates.get(key)
            if known is None or source < known[0]:
                candidates[key] = (source, shown)
            position[key] = min(position.get(key, index), index)
    shared = {
        key: sum(1 for question in terms if any(same_term(key, k) for k in question.found))
        for key in candidates
    }
    ranked = sorted(candidates, key=lambda key: (-shared[key], candidates[key][0], position[key]))
    # In a group, only terms that several of its questions share say what it is about.
    least = 2 if len(terms) > 1 and any(shared[key] > 1 for key in ranked) else 1
    chosen: list[str] = []
    for key in ranked:
        if shared[key] < least:
            continue
        same = [index for index, other in enumerate(chosen) if same_term(key, other)]
        if same:
            # One of two terms that begin alike: the shorter, more general one.
            if len(key) < len(chosen[same[0]]):
                chosen[same[0]] = key
            continue
        if len(chosen) < LABEL_TERMS:
            chosen.append(key)
    return ", ".join(candidates[key][1] for key in chosen)
