"""Character n-gram TF-IDF over hashed n-grams.

German compounds ("Jugendbeteiligung", "Beteiligungssatzung", "Bürgerhaushalts") defeat word
matching; character 3-5-grams inside word boundaries match their parts. The n-grams are hashed
(``HashingVectorizer``), so a passage's counts need no vocabulary and could be computed once at
write time and stored; the IDF weights come from the candidates of the current question, which is
what TF-IDF fitted on the pool of candidates would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from service.text import fold

N_FEATURES = 2**20
NGRAM_RANGE = (3, 5)

_VECTORIZER = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=NGRAM_RANGE,
    n_features=N_FEATURES,
    alternate_sign=False,
    norm=None,
    lowercase=False,
    preprocessor=fold,
    dtype=np.float32,
)


@lru_cache(maxsize=8192)
def _row(text: str) -> sp.csr_matrix:
    return sp.csr_matrix(_VECTORIZER.transform([text]))


def ngram_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed character n-gram counts, one row per text (stateless, so it may run at write
    time; rows are cached per text, since the same profiles are ranked again and again)."""
    if not texts:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return sp.csr_matrix(sp.vstack([_row(text) for text in texts], format="csr"))


def _weigh(
    counts: sp.csr_matrix,
    columns: npt.NDArray[np.int32],
    idf: npt.NDArray[np.float64],
    unseen_idf: float,
) -> sp.csr_matrix:
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.sum_duplicates()
    entry_idf = np.full(weighted.indices.shape, unseen_idf, dtype=np.float64)
    if len(columns):
        position = np.minimum(np.searchsorted(columns, weighted.indices), len(columns) - 1)
        known = columns[position] == weighted.indices
        entry_idf[known] = idf[position[known]]
    weighted.data = (1.0 + np.log(weighted.data)) * entry_idf
    return sp.csr_matrix(normalize(weighted))


def tfidf_similarity(
    query_counts: sp.csr_matrix, document_counts: sp.csr_matrix
) -> npt.NDArray[np.float64]:
    """Cosine similarity of sublinear TF-IDF vectors, IDF from the documents given; returns
    shape (n_queries, n_documents), values in [0, 1]."""
    n_documents = document_counts.shape[0]
    if n_documents == 0 or query_counts.shape[0] == 0:
        return np.zeros((query_counts.shape[0], n_documents), dtype=np.float64)
    documents = sp.csr_matrix(document_counts, copy=True)
    documents.sum_duplicates()
    documents.eliminate_zeros()
    # Only the columns present in the pool matter: no dense vector over all hashed features.
    columns, frequency = np.unique(documents.indices, return_counts=True)
    idf = np.log((1.0 + n_documents) / (1.0 + frequency)) + 1.0
    unseen_idf = float(np.log(1.0 + n_documents) + 1.0)
    similarity = (
        _weigh(query_counts, columns, idf, unseen_idf)
        @ _weigh(documents, columns, idf, unseen_idf).T
    )
    return np.clip(np.asarray(similarity.todense(), dtype=np.float64), 0.0, 1.0)
