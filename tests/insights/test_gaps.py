"""Grouping and naming gap questions (service/insights/gaps.py): by topic, never by language;
labelled in the network's words; total over whatever people type."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.insights import gaps
from tests.matching.test_any_text import ODD_TEXT

NO_VOCABULARY: dict[str, str] = {}


def _terms(title: str, body: str, tags: tuple[str, ...] = ()) -> gaps.Terms:
    return gaps.topic_terms(title, body, list(tags), NO_VOCABULARY)


BROADBAND = [
    _terms(
        "Breitbandausbau in den Ortsteilen",
        "Bei uns soll Glasfaser in alle Ortsteile verlegt werden. Wie habt ihr informiert?",
    ),
    _terms("Glasfaser: Anschlussquote erhöhen", "Wie habt ihr Haushalte überzeugt?"),
    _terms("Breitband-Förderprogramm", "Wer hat eine Kampagne zum Glasfasernetz gemacht?"),
]


def test_a_group_is_named_by_the_terms_its_questions_share() -> None:
    label = gaps.label(BROADBAND)
    assert label.split(", ")[0] == "Glasfaser"
    assert "Breitband" in label
    # "Breitbandausbau" continues "Breitband": one of them is enough.
    assert "Breitbandausbau" not in label.split(", ")
    assert len(label.split(", ")) <= gaps.LABEL_TERMS


def test_tags_and_german_names_come_first() -> None:
    schoolyard = _terms(
        "Schulhof neu gestalten – wie planen Kinder mit?",
        "Schulleitung und Bauamt möchten, dass die Kinder bis zur Fertigstellung dabei bleiben.",
        ("Schule",),
    )
    assert gaps.label([schoolyard]).startswith("Schule, Schulhof")
    # An English question is named in the field's German words where the synonym list has them.
    english = _terms("Setting up a youth council", "How did you set up a youth council?")
    assert gaps.label([english]).startswith("Jugendgemeinderat")


def test_questions_in_one_language_on_different_topics_are_no_group() -> None:
    budget = _terms("Village budget", "How did a small village run a participatory budget?")
    council = _terms("Youth council", "How did you set up a youth council?")
    # However alike their embeddings (as two English texts are), no shared term: two groups.
    alike = np.array([[1.0, 0.0], [0.95, 0.31]], dtype=np.float32)
    assert gaps.topics(alike, [budget, council]) == [[0], [1]]
    assert gaps.topics(alike, [BROADBAND[0], BROADBAND[1]]) == [[0, 1]]


def test_generic_words_are_no_topic() -> None:
    terms = _terms("Bürgerbeteiligung in der Gemeinde", "Welche Erfahrungen habt ihr?")
    assert gaps.label([terms]) == ""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(ODD_TEXT, ODD_TEXT, st.lists(ODD_TEXT, max_size=3)), min_size=1, max_size=4)
)
def test_any_text_is_grouped_and_labelled(questions: list[tuple[str, str, list[str]]]) -> None:
    terms = [
        gaps.topic_terms(title, body, tags, {"glasfas": "Glasfaser"})
        for title, body, tags in questions
    ]
    rng = np.random.default_rng(len(questions))
    vectors = rng.normal(size=(len(questions), 8)).astype(np.float32)
    vectors[0] = 0.0  # a vector of nothing is grouped too
    groups = gaps.topics(vectors, terms)
    assert sorted(index for group in groups for index in group) == list(range(len(questions)))
    for group in groups:
        label = gaps.label([terms[index] for index in group])
        assert len([part for part in label.split(", ") if part]) <= gaps.LABEL_TERMS
