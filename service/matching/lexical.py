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
    counts: sp.csr_matrix, frequency: npt.NDArray[np.int64], n_documents: int
) -> sp.csr_matrix:
    """Sublinear TF times smoothed IDF (from the hashed column's document frequency), rows
    L2-normalized. IDF is computed for the stored entries only, not for every hashed column."""
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.sum_duplicates()
    idf = np.log((1.0 + n_documents) / (1.0 + frequency[weighted.indices])) + 1.0
    weighted.data = (1.0 + np.log(weighted.data)) * idf
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
    # Document frequency per hashed column by counting (each row lists a column once): linear,
    # where sorting the pool's columns was not. Unseen columns get the largest IDF.
    frequency = np.bincount(documents.indices, minlength=N_FEATURES)
    similarity = (
        _weigh(query_counts, frequency, n_documents) @ _weigh(documents, frequency, n_documents).T
    )
    return np.clip(np.asarray(similarity.todense(), dtype=np.float64), 0.0, 1.0)
