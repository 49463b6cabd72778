"""Splitting a member's free-text expertise into topic-sized passages.

A profile often covers several topics ("Jugendhearing ... außerdem Ortsmitte"); embedding it as
one vector blurs them, so each sentence is embedded on its own and a member is scored from the
passages that match best (see ``rank``). Very short sentences ("Gerne berichte ich.") carry no
topic of their own and are merged into a neighbour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from service.embedding import Embedder, Run, Vector

# Minimum size of a passage on its own; shorter sentences are merged into a neighbour.
MIN_WORDS = 6
# Runs of up to this many consecutive sentences are passages too: a topic often spans two or three
# sentences ("Ich habe ... aufgebaut. Dabei habe ich gelernt ..."), and a sentence alone loses it.
WINDOW = 3

# A sentence ends at . ! ? (or …) followed by whitespace and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"“”»«')\]]*\s+(?=[\"„“»«(\[]?[A-ZÄÖÜ0-9])")
# Line breaks, bullets and numbered items separate passages as well.
_LINE_BREAK = re.compile(r"\s*(?:\r?\n)+\s*(?:[-*•–]\s+|\d+[.)]\s+)?")
# Abbreviations after which a capitalized word does not start a new sentence.
_ABBREVIATIONS = frozenset(
    {
        "abs",
        "abt",
        "art",
        "bzw",
        "ca",
        "dipl",
        "dr",
        "ebd",
        "evtl",
        "ggf",
        "hr",
        "inkl",
        "insb",
        "jh",
        "nr",
        "prof",
        "rd",
        "sog",
        "st",
        "str",
        "tel",
        "usw",
        "vgl",
        "zb",
        "zzgl",
        "e.g",
        "i.e",
        "etc",
        "mr",
        "mrs",
        "ms",
        "no",
        "vs",
    }
)
_LAST_TOKEN = re.compile(r"(\S+)\.$")
_WORD = re.compile(r"\w+")


def _ends_with_abbreviation(chunk: str) -> bool:
    match = _LAST_TOKEN.search(chunk)
    if match is None:
        return False
    token = match.group(1).casefold().lstrip('("„')
    if token in _ABBREVIATIONS:
        return True
    # Single letters ("z. B.", "u. a.", "d. h.") and ordinals ("3. Oktober", "Art. 18.") do not
    # end a sentence.
    return (
        len(token) == 1
        or (token.isdigit() and len(token) <= 2)
        or bool(re.fullmatch(r"(?:\w\.)+\w", token))
    )


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for block in _LINE_BREAK.split(text):
        block = " ".join(block.split())
        if not block:
            continue
        pending = ""
        for chunk in _SENTENCE_END.split(block):
            pending = f"{pending} {chunk}" if pending else chunk
            if not _ends_with_abbreviation(pending):
                sentences.append(pending)
                pending = ""
        if pending:
            sentences.append(pending)
    return sentences


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def sentence_passages(expertise: str) -> list[str]:
    """The sentences of an expertise description, very short ones merged into a neighbour."""
    sentences = _sentences(expertise)
    passages: list[str] = []
    for sentence in sentences:
        if passages and (
            _word_count(sentence) < MIN_WORDS or _word_count(passages[-1]) < MIN_WORDS
        ):
            passages[-1] = f"{passages[-1]} {sentence}"
        else:
            passages.append(sentence)
    if not passages and expertise.strip():
        passages.append(" ".join(expertise.split()))
    return passages


def passage_runs(count: int, *, window: int = WINDOW) -> list[Run]:
    """The passages of a profile of ``count`` sentences, as ``(start, stop)`` ranges of them:
    every sentence, then every run of 2..`window` consecutive sentences."""
    return [
        (start, start + size)
        for size in range(1, max(1, window) + 1)
        for start in range(count - size + 1)
    ]


def split_passages(expertise: str, *, window: int = WINDOW) -> list[str]:
    """Split an expertise description into passages: every sentence (very short ones merged into
    a neighbour), then every run of 2..`window` consecutive sentences; never empty for text that
    is not blank. Sentences come first, so the first passages are the ones to show."""
    sentences = sentence_passages(expertise)
    return [
        " ".join(sentences[start:stop])
        for start, stop in passage_runs(len(sentences), window=window)
    ]


def embed_passages(
    embedder: Embedder, expertises: Sequence[str], *, window: int = WINDOW
) -> tuple[list[list[str]], Vector]:
    """The passages of each expertise description (``split_passages``) and their vectors, in
    one array in the same order. A profile's passages share its sentences; the embedder computes
    them once where it can (``Embedder.embed_runs``)."""
    sentences: list[str] = []
    runs: list[Run] = []
    passage_lists: list[list[str]] = []
    for expertise in expertises:
        own = sentence_passages(expertise)
        offset = len(sentences)
        sentences.extend(own)
        spans = passage_runs(len(own), window=window)
        runs.extend((offset + start, offset + stop) for start, stop in spans)
        passage_lists.append([" ".join(own[start:stop]) for start, stop in spans])
    return passage_lists, embedder.embed_runs(sentences, runs)


def sentence_flags(passages: Sequence[str]) -> tuple[bool, ...]:
    """Which of a profile's passages are sentences: those that contain no other passage (the
    windows of several sentences that ``split_passages`` adds contain their sentences). Known
    when the passages are written, so the store keeps it and a question need not work it out."""
    return tuple(
        not any(
            j != index and len(other) < len(text) and other in text
            for j, other in enumerate(passages)
        )
        for index, text in enumerate(passages)
    )


def searched_flags(sentences: Sequence[bool]) -> tuple[bool, ...]:
    """Which of a profile's passages the dense candidate channel searches (and the HNSW index
    holds), given their ``sentence_flags``: the windows, and the sentence of a profile that has
    no window. A window holds every sentence of its profile, so searching its sentences as well
    would only repeat what it finds (the `window_index` migration)."""
    has_window = not all(sentences)
    return tuple(not (sentence and has_window) for sentence in sentences)
