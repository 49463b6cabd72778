"""A fast, deterministic stand-in for the embedding model, for tests whose subject is not
embedding. Texts that share words (and parts of compounds) get similar vectors, so ranking
still behaves like ranking; tests about matching quality use the real model."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from service.embedding import Embedder, Vector, normalize
from service.text import fold


class FakeEmbedder(Embedder):
    """Hashed character trigrams of the folded words, with signs, normalized."""

    name = "test-trigrams"
    dimension = 256

    def _embed(self, texts: Sequence[str]) -> Vector:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in fold(text).split():
                padded = f" {word} "
                for start in range(len(padded) - 2):
                    code = zlib.crc32(padded[start : start + 3].encode("utf-8"))
                    vectors[row, code % self.dimension] += 1.0 if code & 1 << 31 else -1.0
        return normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts)
