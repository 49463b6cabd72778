"""Character n-gram TF-IDF over hashed n-grams.

German compounds ("Jugendbeteiligung", "Beteiligungssatzung", "Bürgerhaushalts") defeat word
matching; character 3-5-grams inside word boundaries match their parts. The n-grams are those of
scikit-learn's ``char_wb`` analyzer on folded text (each word padded with a space on both
sides; every window of 3, 4 and 5 characters inside a padded word), hashed into ``N_FEATURES``
columns, so a text's counts need no vocabulary. The IDF weights come from the candidates of the
current question, which is what TF-IDF fitted on the pool of candidates would give.

Everything here is vectorized with numpy and costs O(characters of the candidates), since it
runs for every question: the n-grams of all texts not yet cached are hashed in one pass, and
the similarity is computed on the sparse entries only (docs/performance.md, "How a question
is answered").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

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
        if size < n:
            # The whole padded text is shorter than an n-gram (" x " has no 4-gram): longer
            # ones are absent too. Slicing on would take ``size - n + 1`` as a negative end.
            break
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


def _rows(texts: Sequence[str]) -> list[Row]:
    """Each text's count row, from the cache or counted (the texts not cached in one pass)."""
    rows: list[Row | None] = [_CACHE.get(text) for text in texts]
    missing = sorted({text for text, row in zip(texts, rows, strict=True) if row is None})
    if not missing:
        return [row for row in rows if row is not None]  # every one of them
    counted = _count(missing)
    fresh: dict[str, Row] = {}
    for index, text in enumerate(missing):
        start, end = counted.indptr[index], counted.indptr[index + 1]
        fresh[text] = (
            counted.indices[start:end].astype(np.int32),
            counted.data[start:end].astype(np.float32),
        )
        _CACHE.put(text, fresh[text])
    return [fresh[text] if row is None else row for text, row in zip(texts, rows, strict=True)]


@dataclass(frozen=True, slots=True)
class _Stacked:
    """Rows stacked as CSR arrays, without a scipy matrix (whose construction validates its
    arrays: a fifth of a question's lexical time)."""

    indptr: npt.NDArray[np.int64]
    columns: npt.NDArray[np.int32]
    counts: npt.NDArray[np.float32]

    @property
    def size(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def of_rows(cls, rows: Sequence[Row]) -> _Stacked:
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(columns) for columns, _ in rows], out=indptr[1:])
        if not rows or indptr[-1] == 0:
            return cls(indptr, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        return cls(
            indptr,
            np.concatenate([columns for columns, _ in rows]),
            np.concatenate([counts for _, counts in rows]),
        )

    @classmethod
    def of_matrix(cls, matrix: sp.csr_matrix) -> _Stacked:
        matrix = sp.csr_matrix(matrix)
        return cls(
            matrix.indptr.astype(np.int64),
            matrix.indices.astype(np.int32),
            matrix.data.astype(np.float32),
        )


def ngram_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed character n-gram counts, one row per text (stateless, so it could run at write
    time; rows are cached per text, and the texts not cached are counted in one pass)."""
    stacked = _Stacked.of_rows(_rows(texts))
    if not stacked.counts.size:
        return sp.csr_matrix((len(texts), N_FEATURES), dtype=np.float32)
    return sp.csr_matrix(
        (stacked.counts, stacked.columns, stacked.indptr), shape=(len(texts), N_FEATURES)
    )


_SCRATCH = threading.local()


def _slots() -> npt.NDArray[np.int32]:
    """This thread's array with a slot per hashed column (4 MB, allocated once, never cleared:
    a slot is only read for a column just written, or checked against the column it names)."""
    slots: npt.NDArray[np.int32] | None = getattr(_SCRATCH, "slots", None)
    if slots is None:
        slots = _SCRATCH.slots = np.zeros(N_FEATURES, dtype=np.int32)
    return slots


def _tfidf(queries: _Stacked, documents: _Stacked) -> npt.NDArray[np.float64]:
    """Cosine similarity of sublinear TF-IDF vectors with smoothed IDF from ``documents``:
    shape (queries, documents), values in [0, 1]. Each column occurs at most once per row.

    Work is linear in the stored entries and never touches the whole hashed space: every
    column of the documents is numbered by one of its entries (its representative, found by
    writing entry numbers into the column's slot: the last write wins), and document
    frequencies, query weights and dot products are all counted over those numbers. Counting
    into arrays over all 2**20 columns (8 MB zeroed and read back scattered, for every question)
    took as long in a loop of questions, and longer in the service, where the embedding has
    just evicted the caches."""
    n_queries, n_documents = queries.size, documents.size
    result = np.zeros((n_queries, n_documents), dtype=np.float64)
    if n_queries == 0 or n_documents == 0:
        return result
    columns = documents.columns
    entries = len(columns)
    idf_by_frequency = np.log((1.0 + n_documents) / (1.0 + np.arange(n_documents + 1))) + 1.0
    if entries == 0:
        return result
    slots = _slots()
    slots[columns] = np.arange(entries, dtype=np.int32)
    representative = slots[columns]
    frequency_of = np.bincount(representative, minlength=entries)  # by representative
    sizes = np.diff(documents.indptr)
    document_weights = (1.0 + np.log(documents.counts.astype(np.float64))) * idf_by_frequency[
        frequency_of[representative]
    ]
    document_of_entry = np.repeat(np.arange(n_documents), sizes)
    document_norms = np.sqrt(
        np.bincount(document_of_entry, weights=document_weights**2, minlength=n_documents)
    )
    query_weight_of = np.zeros(entries, dtype=np.float64)  # by representative
    for index in range(n_queries):
        start, end = queries.indptr[index], queries.indptr[index + 1]
        query_columns = queries.columns[start:end]
        if not len(query_columns):
            continue
        # A query column the documents have: its slot names an entry of that very column.
        found = np.clip(slots[query_columns], 0, entries - 1)
        shared = columns[found] == query_columns
        frequency = np.where(shared, frequency_of[found], 0)
        query_weights = (
            1.0 + np.log(queries.counts[start:end].astype(np.float64))
        ) * idf_by_frequency[frequency]
        query_norm = float(np.sqrt(np.sum(query_weights**2)))
        if query_norm == 0:
            continue
        query_weight_of[found[shared]] = query_weights[shared]
        dots = np.bincount(
            document_of_entry,
            weights=document_weights * query_weight_of[representative],
            minlength=n_documents,
        )
        query_weight_of[found[shared]] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cosine = dots / (document_norms * query_norm)
        result[index] = np.clip(np.nan_to_num(cosine), 0.0, 1.0)
    return result


def tfidf_similarity(
    query_counts: sp.csr_matrix, document_counts: sp.csr_matrix
) -> npt.NDArray[np.float64]:
    """Cosine similarity of sublinear TF-IDF vectors, IDF from the documents given; returns
    shape (n_queries, n_documents), values in [0, 1]. Both matrices must hold each column of a
    row at most once (as ``ngram_counts`` returns them)."""
    return _tfidf(_Stacked.of_matrix(query_counts), _Stacked.of_matrix(document_counts))


def similarity(question: str, documents: Sequence[str]) -> npt.NDArray[np.float64]:
    """``tfidf_similarity`` of one question's text with each document's, from the cached rows
    directly (what ranking calls for every question)."""
    scores: npt.NDArray[np.float64] = _tfidf(
        _Stacked.of_rows(_rows([question])), _Stacked.of_rows(_rows(documents))
    )[0]
    return scores
