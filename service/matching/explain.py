"""What a suggestion's explanation shows a person: a passage that stands on its own, and which
of its words carry the question's meaning.

A sentence that leans on the one before it ("Sie regelt …", "Dabei …", "Dort …") means
nothing alone, so the passage shown then is both sentences. The words worth marking are the
question's words the passage shares (inflected forms count, compounds that merely begin alike
do not), and only those that say something in this network: no stop words, no words every
administration uses (Personen, Zukunft, Stadt), and no words that many members' profiles use
(their share is the network's document frequency, ``frequent``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from service.text import fold


def _word_set(text: str) -> frozenset[str]:
    """The words of ``text``, folded as ``key`` folds them."""
    return frozenset(fold(word) for word in text.split())


# Words that open a sentence which refers back to the one before: personal and possessive
# pronouns, demonstratives, and adverbs that point back or continue.
LEANING_WORDS = _word_set(
    """
    er sie es ihm ihn ihr ihre ihrem ihren ihrer ihres sein seine seinem seinen seiner
    seines dabei dort dorthin dafuer dazu daraus damit danach davor davon darueber darauf
    daran darin dadurch dagegen daneben deshalb daher deswegen dann ausserdem zudem ebenso
    ebenfalls seitdem seither anschliessend trotzdem stattdessen somit also hierbei hierfuer
    hierzu dies diese dieser dieses diesen diesem jene jener jenes jenen jenem solche
    solcher
    """
)

_FIRST_WORD = re.compile(r"\W*(\w+)")


def leans_on_previous(sentence: str) -> bool:
    """Whether a sentence begins with a word that refers to the sentence before it."""
    first = _FIRST_WORD.match(sentence)
    return first is not None and fold(first.group(1)) in LEANING_WORDS


# At most this many sentences before the best one are shown with it.
MAX_LEANING_BACK = 2


def standalone(sentences: Sequence[str], index: int) -> str:
    """Sentence ``index`` of a profile (its sentences in order), with the ones before it that
    it leans on: the one before when it opens with a pronoun or a pointing word, and the one
    before that when that one leans too ("Er begleitet …" before "Außerdem berät er …")."""
    start = index
    while start > 0 and index - start < MAX_LEANING_BACK and leans_on_previous(sentences[start]):
        start -= 1
    return " ".join(sentences[start : index + 1])


WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORD = 4
# German function words (folded), and English ones for English questions.
STOP_WORDS = _word_set(
    """
    aber alle allem allen aller alles als also auch auf aus bei beim bin bis bist dann das
    dass dem den denen der deren des dessen die dies diese diesem diesen dieser dieses doch
    dort durch eine einem einen einer eines einige etwa etwas euch euer eure fuer gibt habe
    haben hat hatte hatten hier ihre ihrem ihren ihrer ihres immer jede jedem jeden jeder
    jetzt kann kein keine koennen konnte machen man mehr mit muss nach neben nicht noch nun
    nur oder ohne schon sehr sein seine sich sie sind so soll sollen sowie ueber um und uns
    unser unsere unserem unseren unserer unter viel viele vielen vom von vor waere war waren
    was weil wenn werden wie wieder wir wird wo wurde wurden zum zur zwischen welche welcher
    welches wollen with that this have from what which about there their would could should
    been were
    """
)
# Words every administration uses, which mark nothing particular in a question or a profile.
GENERIC_WORDS = _word_set(
    """
    Person Personen Mensch Menschen Leute Zukunft Jahr Jahre Jahren Zeit Frage Fragen Thema
    Themen Beispiel Beispiele Möglichkeit Möglichkeiten Erfahrung Erfahrungen Idee Ideen
    Ende Anfang Teil Teile Art Weise Problem Probleme Stadt Städte Städten Gemeinde
    Gemeinden Kommune Kommunen Verwaltung Verwaltungen Bürger Bürgerinnen Bürgern Einwohner
    Einwohnerinnen Einwohnern Beteiligung Bürgerbeteiligung Ort Orte Ergebnis Ergebnisse
    Rahmen Bereich Bereiche Arbeit Unterstützung Hilfe Informationen Angebot Angebote
    """
)
# A capitalized word this long counts as a noun even at a sentence's start; a word in lower
# case this long is a compound adjective worth marking ("grenzüberschreitende").
LONG_WORD = 10
LONG_COMPOUND = 14
# A network's words that more than this share of profiles use are too common to mark.
FREQUENT_SHARE = 0.1


def key(word: str) -> str:
    return fold(word)


def is_generic(phrase: str) -> bool:
    """Whether every word of ``phrase`` (a tag, say) is one every administration uses."""
    words = [key(word) for word in WORD.findall(phrase)]
    return bool(words) and all(word in GENERIC_WORDS for word in words)


def _same_word(a: str, b: str) -> bool:
    """Two folded words are forms of one word: equal, or one runs into the other with at most
    a few letters of ending ("Schulhof" / "Schulhöfen", "Bürgerrat" / "Bürgerräte"); two
    compounds that only begin alike ("Bürgerbus" / "Bürgerbeteiligung") are not."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < 5:
        return False
    common = 0
    for x, y in zip(shorter, longer, strict=False):
        if x != y:
            break
        common += 1
    return common >= len(shorter) - 2 and len(longer) - common <= 4


def question_words(question: str) -> dict[str, str]:
    """The question's words that may carry its meaning: folded key → the word as written."""
    found: dict[str, str] = {}
    for word in WORD.findall(question):
        folded = key(word)
        if len(folded) >= MIN_WORD and folded not in STOP_WORDS and folded not in GENERIC_WORDS:
            found.setdefault(folded, word)
    return found


def sentence_starts(text: str) -> set[int]:
    """Where the sentences of ``text`` begin (offsets of their first word)."""
    starts = {match.start(1) for match in re.finditer(r"(?:^|[.!?:;]\s+)(\w)", text)}
    return starts


def marked_spans(
    passage: str, question: str, frequent: Collection[str] = ()
) -> list[tuple[int, int]]:
    """Where in ``passage`` the words to mark stand, in order: words shared with the question,
    meaningful in German (nouns and names, which German capitalizes, or long compounds), not
    generic, and not among the network's ``frequent`` words (folded keys)."""
    meaningful = [folded for folded in question_words(question) if folded not in frequent]
    starts = sentence_starts(passage)
    spans: list[tuple[int, int]] = []
    for match in WORD.finditer(passage):
        word = match.group()
        folded = key(word)
        if len(folded) < MIN_WORD or folded in STOP_WORDS or folded in GENERIC_WORDS:
            continue
        if not any(_same_word(folded, other) for other in meaningful):
            continue
        noun = word[0].isupper() and (match.start() not in starts or len(word) >= LONG_WORD)
        if noun or len(word) >= LONG_COMPOUND:
            spans.append(match.span())
    return spans
