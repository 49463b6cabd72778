"""Character n-gram TF-IDF over hashed n-grams.

German compounds ("Jugendbeteiligung", "Beteiligungssatzung", "Bürgerhaushalts") defeat word
matching; character 3-5-grams inside word boundaries match their parts. The n-grams are those of
scikit-learn's ``char_wb`` analyzer on folded text (each word padded with a space on both
sides; every window of 3, 4 and 5 characters inside a padded word), hashed into ``N_FEATURES``
columns, so a text's counts need no vocabulary. The IDF weights come from the candidates of the
current question, which is what TF-IDF fitted on the pool of candidates would give.

Everything here is vectorized with numpy and costs O(characters of the candidates), since it
runs for every question: the n-grams of all texts not yet cached are hashed in one pass, and
the similarity is computed on the sparse entries only (docs/performance.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from service.text import fold

N_FEATURES = 2**20
NGRAM_RANGE = (3, 5)
# Rows kept per process: the same profiles are ranked again and again.
CACHE_SIZE = 16384

# Polynomial rolling hash over code points, then a multiplicative mix into N_FEATURES columns.
_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(29)
_MASK = np.uint64(N_FEATURES - 1)
_BITS = np.uint64(N_FEATURES.bit_length() - 1)  # a key's text index sits above its column


def hash_ngram(ngram: str) -> int:
    """The column of one n-gram (the scalar definition that ``_count`` vectorizes)."""
    value = 0
    for char in ngram:
        value = ((value * int(_BASE)) % 2**64) ^ ord(char)
    value = (value * int(_MIX)) % 2**64
    value ^= value >> int(_SHIFT)
    return value & int(_MASK)


def _count(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed n-gram counts of ``texts``, one row each, computed in one vectorized pass."""
    words: list[str] = []
    words_per_text = np.zeros(len(texts), dtype=np.int64)
    for index, text in enumerate(texts):
        folded = fold(text).split()
        words.extend(folded)
        words_per_text[index] = len(folded)
    if not words:
        return sp.csr_matrix((len(texts), N_FEATURES), dtype=np.float32)
    # " w1  w2  w3 ": every word padded with a space on each side, as char_wb pads them.
    padded = " " + "  ".join(words) + " "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2
    word_of_char = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
    text_of_char = np.repeat(
        np.repeat(np.arange(len(texts), dtype=np.int64), words_per_text), lengths
    )
    size = len(codes)
    # Each n-gram as one key, text-major: text * N_FEATURES + column. One sort of the keys
    # groups every text's columns in ascending order, and runs of equal keys are the counts
    # (a third of the time of building a COO matrix and letting scipy sort and sum each row).
    keys: list[npt.NDArray[np.uint64]] = []
    rolling = codes.copy()  # rolling[i]: hash of the n characters from i
    for n in range(2, NGRAM_RANGE[1] + 1):
        rolling = (rolling[: size - n + 1] * _BASE) ^ codes[n - 1 :]
        if n < NGRAM_RANGE[0]:
            continue
        inside = word_of_char[: size - n + 1] == word_of_char[n - 1 :]
        mixed = rolling[inside] * _MIX
        mixed ^= mixed >> _SHIFT
        mixed &= _MASK
        mixed |= text_of_char[: size - n + 1][inside].astype(np.uint64) << _BITS
        keys.append(mixed)
    ordered = np.sort(np.concatenate(keys))
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    unique = ordered[starts]
    counts = np.diff(np.append(starts, len(ordered))).astype(np.float32)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount((unique >> _BITS).astype(np.int64), minlength=len(texts)), out=indptr[1:])
    return sp.csr_matrix(
        (counts, (unique & _MASK).astype(np.int32), indptr), shape=(len(texts), N_FEATURES)
    )


# One text's counts: its columns (ascending) and their counts.
Row = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]


class _RowCache:
    """A thread-safe LRU cache of count rows by text."""

    def __init__(self, size: int) -> None:
        self._rows: OrderedDict[str, Row] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str) -> Row | None:
        with self._lock:
            row = self._rows.get(text)
            if row is not None:
                self._rows.move_to_end(text)
            return row

    def put(self, text: str, row: Row) -> None:
        with self._lock:
            self._rows[text] = row
            self._rows.move_to_end(text)
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_CACHE = _RowCache(CACHE_SIZE)


def ngram_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed character n-gram counts, one row per text (stateless, so it could run at write
    time; rows are cached per text, and the texts not cached are counted in one pass)."""
    rows: list[Row | None] = [_CACHE.get(text) for text in texts]
    missing = sorted({text for text, row in zip(texts, rows, strict=True) if row is None})
    if missing:
        counted = _count(missing)
        fresh: dict[str, Row] = {}
        for index, text in enumerate(missing):
            start, end = counted.indptr[index], counted.indptr[index + 1]
            fresh[text] = (
                counted.indices[start:end].astype(np.int32),
                counted.data[start:end].astype(np.float32),
            )
            _CACHE.put(text, fresh[text])
        rows = [fresh[text] if row is None else row for text, row in zip(texts, rows, strict=True)]
    known = [row for row in rows if row is not None]
    indptr = np.zeros(len(known) + 1, dtype=np.int64)
    np.cumsum([len(columns) for columns, _ in known], out=indptr[1:])
    if not known or indptr[-1] == 0:
        return sp.csr_matrix((len(texts), N_FEATURES), dtype=np.float32)
    return sp.csr_matrix(
        (
            np.concatenate([counts for _, counts in known]),
            np.concatenate([columns for columns, _ in known]),
            indptr,
        ),
        shape=(len(texts), N_FEATURES),
    )


def _weights(
    counts: sp.csr_matrix,
    idf_by_frequency: npt.NDArray[np.float64],
    frequency: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Sublinear TF times smoothed IDF of every stored entry, and each row's L2 norm."""
    weights = (1.0 + np.log(counts.data.astype(np.float64))) * idf_by_frequency[
        frequency[counts.indices]
    ]
    squares = np.zeros(counts.shape[0], dtype=np.float64)
    nonempty = np.diff(counts.indptr) > 0
    if counts.nnz:
        squares[nonempty] = np.add.reduceat(weights * weights, counts.indptr[:-1][nonempty])
    return weights, np.sqrt(squares)


_SCRATCH = threading.local()


def _column_lookup() -> npt.NDArray[np.float64]:
    """This thread's zeroed array with a slot per hashed column (8 MB, allocated once): a query's
    weights are written into it, read back for every document entry, and cleared again."""
    lookup: npt.NDArray[np.float64] | None = getattr(_SCRATCH, "lookup", None)
    if lookup is None:
        lookup = _SCRATCH.lookup = np.zeros(N_FEATURES, dtype=np.float64)
    return lookup


def tfidf_similarity(
    query_counts: sp.csr_matrix, document_counts: sp.csr_matrix
) -> npt.NDArray[np.float64]:
    """Cosine similarity of sublinear TF-IDF vectors, IDF from the documents given; returns
    shape (n_queries, n_documents), values in [0, 1]. Both matrices must hold each column of a
    row at most once (as ``ngram_counts`` returns them)."""
    n_queries, n_documents = query_counts.shape[0], document_counts.shape[0]
    result = np.zeros((n_queries, n_documents), dtype=np.float64)
    if n_documents == 0 or n_queries == 0:
        return result
    documents = sp.csr_matrix(document_counts)
    # Document frequency per hashed column by counting: linear, where sorting was not. Unseen
    # columns (frequency 0) get the largest IDF.
    frequency = np.bincount(documents.indices, minlength=N_FEATURES)
    idf_by_frequency = np.log((1.0 + n_documents) / (1.0 + np.arange(n_documents + 1))) + 1.0
    document_weights, document_norms = _weights(documents, idf_by_frequency, frequency)
    document_of_entry = np.repeat(np.arange(n_documents), np.diff(documents.indptr))
    lookup = _column_lookup()
    for index in range(n_queries):
        query = sp.csr_matrix(query_counts[index])
        query_weights, query_norm = _weights(query, idf_by_frequency, frequency)
        if not query.nnz or query_norm[0] == 0:
            continue
        # The query's weight of each document entry's column (0 where the query lacks it).
        lookup[query.indices] = query_weights
        try:
            dots = np.bincount(
                document_of_entry,
                weights=document_weights * lookup[documents.indices],
                minlength=n_documents,
            )
        finally:
            lookup[query.indices] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cosine = dots / (document_norms * query_norm[0])
        result[index] = np.clip(np.nan_to_num(cosine), 0.0, 1.0)
    return result
