"""rank() on small networks, with the real multilingual USE model where meaning matters."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np
import pytest

from models.questions import Suggestion
from service.embedding import Vector
from service.matching import fit
from service.matching.passages import split_passages
from service.matching.rank import DEFAULT_WEIGHTS, components, rank, ranked, select
from service.matching.types import Candidate, Passage, Query


class Embedder(Protocol):
    def embed_queries(self, texts: Sequence[str]) -> Vector: ...

    def embed_documents(self, texts: Sequence[str]) -> Vector: ...


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from service.embedding import load_embedder

    return load_embedder("use-multilingual-v3")


def member(
    embedder: Embedder,
    member_id: str,
    expertise: str,
    tags: Sequence[str] = (),
    *,
    municipality: str | None = None,
    kind: str = "Mittelstadt",
    state: str = "Hessen",
    role: str = "Beteiligungsbeauftragte",
) -> Candidate:
    texts = split_passages(expertise)
    vectors = embedder.embed_documents(texts)
    return Candidate(
        member_id=member_id,
        name=member_id,
        municipality_id=municipality or f"place-{member_id}",
        municipality=municipality or f"Ort {member_id}",
        state=state,
        municipality_kind=kind,
        role=role,
        tags=tuple(tags),
        passages=tuple(Passage(t, v) for t, v in zip(texts, vectors, strict=True)),
    )


def question(embedder: Embedder, title: str, body: str, tags: Sequence[str] = ()) -> Query:
    vector = embedder.embed_queries([f"{title}\n{body}"])[0]
    return Query(title=title, body=body, tags=tuple(tags), vector=vector, asker_state="Sachsen")


@pytest.fixture(scope="module")
def network(embedder: Embedder) -> list[Candidate]:
    return [
        member(
            embedder,
            "youth",
            "Ich koordiniere die Jugendbeteiligung der Stadt. Wir haben einen Jugendgemeinderat "
            "mit eigenen Wahlen aufgebaut und begleiten seine Sitzungen.",
            ["Jugendgemeinderat"],
        ),
        member(
            embedder,
            "budget",
            "Ich betreue den Bürgerhaushalt. Die Einwohnerinnen und Einwohner schlagen Projekte "
            "vor und stimmen mit Stimmzetteln im Rathaus über die Vorschläge ab.",
            ["Bürgerhaushalt"],
        ),
        member(
            embedder,
            "statute",
            "Ich habe die Beteiligungssatzung unserer Stadt erarbeitet. Sie regelt "
            "Mindeststandards und eine Vorhabenliste, die der Stadtrat beschlossen hat.",
            ["Beteiligungssatzung"],
        ),
        member(
            embedder,
            "wind",
            "Ich begleite die Planung von Windparks im Landkreis. Anwohnende können sich an "
            "Bürgerwindparks finanziell beteiligen.",
            ["Windenergie"],
        ),
        member(
            embedder,
            "flood",
            "Nach dem Hochwasser habe ich die Planung neuer Deiche mit den Anwohnenden begleitet, "
            "mit Ortsterminen und einer Informationsstelle im Rathaus.",
            ["Hochwasserschutz"],
        ),
    ]


def ids(suggestions: Sequence[Suggestion]) -> list[str]:
    return [suggestion.member.id for suggestion in suggestions]


class TestRank:
    def test_german_compound_word_match(self, embedder: Embedder, network: list[Candidate]) -> None:
        query = question(
            embedder,
            "Satzung für Bürgerbeteiligung",
            "Der Rat will eine Beteiligungssatzung. Was regelt ihr darin verbindlich?",
        )
        assert ids(rank(query, network, limit=3))[0] == "statute"

    def test_an_open_question_reaches_who_fits_and_nobody_else(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        query = question(
            embedder,
            "Jugendgemeinderat gründen",
            "Wir wollen einen Jugendgemeinderat mit eigenen Wahlen aufbauen. Wie seid ihr "
            "vorgegangen?",
        )
        found = ranked(query, network, limit=0, audience=10)
        assert ids(found.audience) == ["youth"]
        [reached] = found.audience
        scores = reached.reasons.components
        assert scores is not None and scores.fits_partly is not None
        assert scores.fits_partly >= fit.FIT_MODEL.reaches_from
        assert reached.reasons.passage  # why it fits, as for a suggestion
        assert found.suggestions == []
        assert ranked(query, network, limit=3).audience == []  # only when asked for

    def test_english_question_finds_german_profile(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        query = question(
            embedder,
            "Participatory budgeting with paper ballots",
            "Residents propose projects and vote on them with paper ballots. Who has done this?",
        )
        assert ids(rank(query, network, limit=3))[0] == "budget"

    def test_long_profile_found_for_each_topic(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        long_profile = member(
            embedder,
            "generalist",
            "Ich bin seit vielen Jahren in der Verwaltung tätig und kenne viele Ämter. "
            "Ich habe einen Jugendgemeinderat mit Wahlen an allen Schulen aufgebaut. "
            "Außerdem betreue ich Seniorenbeiräte und organisiere Seniorenversammlungen. "
            "Bei der Digitalisierung haben wir eine Dorf-App für Umfragen eingeführt. "
            "Zuletzt habe ich Bürgerinformationsmärkte zu Windparks organisiert. "
            "In der Freizeit engagiere ich mich im Sportverein und im Chor meiner Gemeinde.",
        )
        others = [c for c in network if c.member_id not in {"youth", "wind"}]
        for title, body in [
            ("Jugendgemeinderat gründen", "Wie organisiert ihr die Wahlen zum Jugendgemeinderat?"),
            ("Windpark und Anwohner", "Wer hat Informationsveranstaltungen zu Windparks gemacht?"),
            ("Seniorenbeirat", "Wie beteiligt ihr ältere Menschen über einen Seniorenbeirat?"),
        ]:
            query = question(embedder, title, body)
            assert ids(rank(query, [*others, long_profile], limit=3))[0] == "generalist"

    def test_tag_stuffing_does_not_beat_real_expertise(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        stuffing = [
            "Jugendbeteiligung",
            "Bürgerhaushalt",
            "Beteiligungssatzung",
            "Windenergie",
            "Hochwasserschutz",
            "Leitlinien",
            "Bürgerrat",
            "Losverfahren",
            "Inklusion",
            "Moderation",
        ] + [f"Thema {i}" for i in range(20)]
        stuffer = member(
            embedder,
            "stuffer",
            "Ich arbeite in der Pressestelle und schreibe Pressemitteilungen für die Stadt.",
            stuffing,
        )
        query = question(
            embedder,
            "Hochwasserschutz mit Anwohnern planen",
            "Wer hat Deiche und Schutzanlagen gemeinsam mit Anwohnern geplant?",
            ["Hochwasserschutz"],
        )
        ranked = ids(rank(query, [*network, stuffer], limit=6))
        assert ranked[0] == "flood"
        assert ranked.index("stuffer") > ranked.index("flood")

    def test_load_penalty_reorders_equal_members(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        busy = replace(network[1], member_id="busy", municipality_id="b", open_requests=4)
        free = replace(network[1], member_id="free", municipality_id="f", open_requests=0)
        query = question(embedder, "Bürgerhaushalt", "Wie stimmt ihr über Vorschläge ab?")
        assert ids(rank(query, [busy, free], limit=2)) == ["free", "busy"]
        assert ids(rank(query, [free, busy], limit=2)) == ["free", "busy"]

    def test_feedback_prior_never_beats_relevance(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        favourite = replace(network[3], feedback_prior=1.0)
        query = question(embedder, "Hochwasserschutz", "Wer hat Deiche mit Anwohnern geplant?")
        ranked = ids(rank(query, [*network[:3], favourite, network[4]], limit=5))
        assert ranked[0] == "flood"

    def test_one_per_municipality(self, embedder: Embedder, network: list[Candidate]) -> None:
        same_place = [replace(c, municipality_id="same") for c in network]
        query = question(embedder, "Bürgerhaushalt", "Wie stimmt ihr über Vorschläge ab?")
        assert len(rank(query, same_place, limit=5)) == 1
        assert len(rank(query, same_place, limit=5, per_municipality=2)) == 2

    def test_near_duplicates_do_not_crowd_the_top(
        self, embedder: Embedder, network: list[Candidate]
    ) -> None:
        copy = replace(network[1], member_id="copy", municipality_id="elsewhere")
        query = question(embedder, "Bürgerhaushalt", "Wie stimmt ihr über Vorschläge ab?")
        ranked = ids(rank(query, [*network, copy], limit=6))
        assert ranked[0] in {"budget", "copy"}
        assert ranked[1] not in {"budget", "copy"}

    def test_scores_and_reasons(self, embedder: Embedder, network: list[Candidate]) -> None:
        query = question(
            embedder,
            "Windpark: was haben die Dörfer davon?",
            "Welche Modelle zur finanziellen Beteiligung der Anwohner kennt ihr?",
            ["Windkraft"],
        )
        suggestions = rank(query, network, limit=5)
        assert len(suggestions) == 5
        assert all(0.0 <= s.score <= 1.0 for s in suggestions)
        assert [s.score for s in suggestions] == sorted(
            (s.score for s in suggestions), reverse=True
        )
        top = suggestions[0]
        assert top.member.id == "wind"
        assert top.member.municipality.state == network[3].state
        assert top.reasons.matched_tags == ["Windenergie"]
        passage = top.reasons.passage
        assert passage is not None and passage in network[3].passages[0].text + " " + (
            network[3].passages[1].text
        )
        assert top.reasons.components.dense > 0.0
        assert top.reasons.components.lexical > 0.0
        assert top.reasons.components.tags > 0.0
        assert 0.0 < top.reasons.components.relevance <= 1.0

    def test_context_state_law_prefers_same_state(self, embedder: Embedder) -> None:
        expertise = (
            "Ich berate Initiativen zu Einwohneranträgen und Bürgerbegehren, von der "
            "Zulässigkeitsprüfung bis zum Bürgerentscheid."
        )
        here = member(embedder, "here", expertise, state="Sachsen")
        there = member(embedder, "there", expertise, state="Bayern")
        query = question(
            embedder,
            "Einwohnerantrag nach der Gemeindeordnung",
            "Wie prüft ihr die Zulässigkeit eines Einwohnerantrags?",
        )
        suggestions = rank(query, [there, here], limit=2)
        assert ids(suggestions) == ["here", "there"]
        assert suggestions[0].reasons.same_state is True
        assert suggestions[0].reasons.context == ["gleiches Bundesland (Landesrecht)"]

    def test_robust_to_empty_inputs(self, embedder: Embedder) -> None:
        bare = Candidate(
            member_id="bare",
            name="Bare",
            municipality_id="x",
            municipality="X",
            state="Hessen",
            municipality_kind=None,
            role="",
            tags=(),
            passages=(),
        )
        query = Query(title="Frage", body="", tags=(), vector=np.zeros(512, dtype=np.float32))
        assert rank(query, [], limit=5) == []
        assert rank(query, [bare], limit=0) == []
        suggestions = rank(query, [bare], limit=5)
        assert ids(suggestions) == ["bare"]
        assert suggestions[0].reasons.passage is None
        assert 0.0 <= suggestions[0].score <= 1.0


def _unit(values: Sequence[float]) -> Vector:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _synthetic(member_id: str, vectors: Sequence[Sequence[float]]) -> Candidate:
    return Candidate(
        member_id=member_id,
        name=member_id,
        municipality_id=f"place-{member_id}",
        municipality=member_id,
        state="Hessen",
        municipality_kind="Mittelstadt",
        role="",
        tags=(),
        passages=tuple(
            Passage(f"Satz {index} von {member_id} mit genug Worten hier.", _unit(v))
            for index, v in enumerate(vectors)
        ),
    )


class TestDenseAggregation:
    """The dense value is the mean of the `dense_top` best passage similarities."""

    def test_two_matching_passages_beat_one_lucky_passage(self) -> None:
        query = Query(title="t", body="b", tags=(), vector=_unit([1.0, 0.0, 0.0]))
        lucky = _synthetic("lucky", [[1.0, 0.05, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        covered = _synthetic("covered", [[1.0, 0.3, 0.0], [1.0, 0.0, 0.3], [0.0, 1.0, 0.0]])
        best_only = replace(DEFAULT_WEIGHTS, dense_top=1)
        top_two = replace(DEFAULT_WEIGHTS, dense_top=2)
        assert components(query, [lucky, covered], best_only).dense.argmax() == 0
        parts = components(query, [lucky, covered], top_two)
        assert parts.dense.argmax() == 1
        expected = float(
            np.mean(
                np.sort(np.stack([np.asarray(p.vector) for p in covered.passages]) @ query.vector)[
                    -2:
                ]
            )
        )
        assert parts.dense[1] == pytest.approx(expected, abs=1e-6)

    def test_single_passage_member_keeps_its_similarity(self) -> None:
        query = Query(title="t", body="b", tags=(), vector=_unit([1.0, 1.0, 0.0]))
        single = _synthetic("single", [[1.0, 1.0, 0.0]])
        parts = components(query, [single], replace(DEFAULT_WEIGHTS, dense_top=3))
        assert parts.dense[0] == pytest.approx(1.0, abs=1e-6)

    def test_select_caps_municipality_and_defers_duplicates(self) -> None:
        a = _synthetic("a", [[1.0, 0.0, 0.0]])
        twin = replace(_synthetic("twin", [[1.0, 0.0, 0.0]]), municipality_id="place-twin")
        same_place = replace(_synthetic("c", [[0.0, 1.0, 0.0]]), municipality_id="place-a")
        d = _synthetic("d", [[0.0, 0.0, 1.0]])
        scores = np.array([0.9, 0.8, 0.7, 0.1])
        chosen, moved = select([a, twin, same_place, d], scores, limit=5)
        assert chosen == [0, 3, 1]
        assert moved == {1}


class TestShownReasons:
    def test_shared_tags_are_the_questions_tags_and_particular_words(
        self, embedder: Embedder
    ) -> None:
        colleague = member(
            embedder,
            "fachwerk",
            "Ich habe Leitlinien für die Fachwerkaltstadt mit den Bewohnern erarbeitet.",
            ["Gemeinde", "Leitlinien", "Altstadt", "Vorhabenliste"],
        )
        query = question(
            embedder,
            "Leitlinien für unsere Fachwerkaltstadt",
            "Unsere Gemeinde möchte Leitlinien. Wer hat das schon gemacht?",
            ["Vorhabenliste"],
        )
        [suggestion] = rank(query, [colleague], limit=1)
        # "Gemeinde" stands in the text but says nothing particular; "Altstadt" stands only
        # inside a compound. Both still count for the score.
        assert suggestion.reasons.matched_tags == ["Leitlinien", "Vorhabenliste"]
        assert suggestion.reasons.components.tags_in_text > 0

    def test_the_passage_shown_stands_on_its_own(self, embedder: Embedder) -> None:
        colleague = member(
            embedder,
            "satzung",
            "Ich leite die Stabsstelle Bürgerbeteiligung. Wir haben eine Beteiligungssatzung "
            "erarbeitet. Sie schreibt eine Vorhabenliste und ein Initiativrecht vor. Ich "
            "berate gern zur rechtlichen Ausgestaltung.",
        )
        query = question(
            embedder, "Initiativrecht in der Satzung", "Wer schreibt ein Initiativrecht vor?"
        )
        [suggestion] = rank(query, [colleague], limit=1)
        passage = suggestion.reasons.passage or ""
        # The best sentence, after the one that says what "Sie" is.
        assert passage.endswith("Sie schreibt eine Vorhabenliste und ein Initiativrecht vor.")
        assert "Wir haben eine Beteiligungssatzung erarbeitet." in passage
