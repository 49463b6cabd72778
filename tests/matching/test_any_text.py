"""Whatever a member types, matching ranks it: the functions that take people's text are total.

Generated texts are short, odd and not Latin (one character, emoji only, punctuation only,
combining marks, scripts without spaces, control characters): a profile made of any of them,
and a question made of any of them, rank without an exception, and a profile of that kind
never keeps a sensible colleague from being suggested for a sensible question.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.matching import explain, lexical
from service.matching.passages import split_passages
from service.matching.rank import rank
from service.matching.tags import clean_tag, normalize_tag
from service.matching.types import Candidate, Passage, Query
from service.text import fold
from tests.helpers.embedder import FakeEmbedder

EMBEDDER = FakeEmbedder()

# Characters people type, and those they paste by accident: letters of several scripts,
# umlauts, emoji, punctuation, combining marks, spaces of every kind, control characters.
ODD_CHARACTERS = st.characters(
    categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf"), exclude_characters="\x00"
)
ODD_TEXT = st.one_of(
    st.text(ODD_CHARACTERS, max_size=12),
    st.text(ODD_CHARACTERS, min_size=1, max_size=300),
    st.sampled_from(
        ["x", "-", "ab", "🙂", "...", "Ä", "ß", "̈", "参与式预算", "ㅤ", "\u200b", "a\u0301"]
    ),
)
SENSIBLE_EXPERTISE = (
    "Ich habe in unserer Stadt einen Bürgerrat mit Losverfahren durchgeführt: Zufallsauswahl "
    "aus dem Melderegister, Moderation und Empfehlungen an den Gemeinderat."
)


def _candidate(member_id: str, expertise: str, tags: tuple[str, ...] = ()) -> Candidate:
    texts = split_passages(expertise)
    vectors = EMBEDDER.embed_documents(texts) if texts else np.zeros((0, EMBEDDER.dimension))
    return Candidate(
        member_id=member_id,
        name=member_id,
        municipality_id=f"place-{member_id}",
        municipality=f"Ort {member_id}",
        state="Hessen",
        municipality_kind="Mittelstadt",
        role="Beteiligungsbeauftragte",
        tags=tags,
        passages=tuple(Passage(t, v) for t, v in zip(texts, vectors, strict=True)),
    )


def _query(title: str, body: str, tags: tuple[str, ...] = ()) -> Query:
    vector = EMBEDDER.embed_queries([f"{title}\n{body}"])[0]
    return Query(title=title, body=body, tags=tags, vector=vector, asker_state="Sachsen")


class TestAnyText:
    @given(text=ODD_TEXT)
    @example(text="x")
    @example(text="🙂")
    def test_text_functions_are_total(self, text: str) -> None:
        fold(text)
        split_passages(text)
        normalize_tag(clean_tag(text))
        explain.question_words(text)
        counts = lexical.ngram_counts([text, "Bürgerhaushalt"])
        assert counts.shape[0] == 2
        scores = lexical.similarity(text, [text, "Bürgerhaushalt", ""])
        assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))

    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(expertise=ODD_TEXT, tag=ODD_TEXT)
    @example(expertise="🙂", tag="🙂")
    @example(expertise="x", tag="-")
    def test_an_odd_profile_keeps_the_right_colleague_first(self, expertise: str, tag: str) -> None:
        candidates = [
            _candidate("odd", expertise, (tag,)),
            _candidate("right", SENSIBLE_EXPERTISE, ("Bürgerrat",)),
        ]
        suggestions = rank(
            _query("Bürgerrat per Los", "Wer hat einen Bürgerrat mit Zufallsauswahl organisiert?"),
            candidates,
            limit=5,
        )
        assert suggestions[0].member.id == "right"

    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(title=ODD_TEXT, body=ODD_TEXT, tag=ODD_TEXT)
    @example(title="x", body="-", tag="")
    @example(title="🙂", body="🙂", tag="🙂")
    def test_an_odd_question_ranks(self, title: str, body: str, tag: str) -> None:
        candidates = [
            _candidate("right", SENSIBLE_EXPERTISE, ("Bürgerrat",)),
            _candidate("other", "Jugendbeteiligung und Jugendgemeinderat.", ("Jugend",)),
            _candidate("odd", title or "x", (tag,)),
        ]
        suggestions = rank(_query(title, body, (tag,)), candidates, limit=5)
        assert len(suggestions) <= 3
        assert all(np.isfinite(suggestion.score) for suggestion in suggestions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcome=ODD_TEXT, question=ODD_TEXT)
def test_an_outcome_of_any_text_is_scored_and_keeps_a_relevant_one_first(
    outcome: str, question: str
) -> None:
    """Whatever an asker writes as an outcome, the related outcomes of any question are scored
    without an exception, and a sensible question still finds the sensible outcome first."""
    from service.matching import related

    def text(key: str, title: str, body: str, written: str, query: Query) -> related.OutcomeText:
        vectors = EMBEDDER.embed_documents([f"{title}\n{body}\n{written}", written])
        return related.OutcomeText(
            key, title, body, written, (), tuple(float(v @ query.vector) for v in vectors)
        )

    odd_query = _query(question, question)
    odd = text("odd", question, question, outcome, odd_query)
    assert all(0 <= p <= 1 for _, p in related.score(odd_query, [odd], typical=0.28, minimum=0))
    sensible = _query("Bürgerrat per Los", "Wie habt ihr ausgelost und moderiert?")
    found = related.score(
        sensible,
        [
            text("odd", question, question, outcome, sensible),
            text("assembly", "Bürgerrat", "Losverfahren", SENSIBLE_EXPERTISE, sensible),
        ],
        typical=0.28,
        minimum=0,
    )
    assert found[0][0] == "assembly"
