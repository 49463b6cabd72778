"""What the rest of the service needs from an embedding model, and nothing model-specific."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# L2-normalized float32 vectors, one row a text: a dot product is the cosine similarity.
Vector = npt.NDArray[np.float32]
# A run of consecutive sentences, as (start, stop) indexes into a list of sentences.
Run = tuple[int, int]


class Embedder(ABC):
    """A sentence embedding model. Vectors of different models (``name``) never meet in one
    search; changing the model means ``peerconsult reindex``."""

    name: str
    dimension: int

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> Vector:
        """Vectors of questions."""

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> Vector:
        """Vectors of expertise passages."""

    def embed_runs(self, sentences: Sequence[str], runs: Sequence[Run]) -> Vector:
        """The vectors ``embed_documents`` gives the texts ``" ".join(sentences[start:stop])``
        of ``runs`` (a profile's passages: its sentences and runs of them). A model that can
        reuse a sentence's work across the runs that hold it overrides this."""
        return self.embed_documents([" ".join(sentences[start:stop]) for start, stop in runs])


def normalize(vectors: Any) -> Vector:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalized: Vector = (array / norms).astype(np.float32)
    return normalized


def cpu_count() -> int:
    """The cores this process may use (affinity-aware), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)
