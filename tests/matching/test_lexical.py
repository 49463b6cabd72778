"""The character n-gram TF-IDF that the lexical component of ranking reads."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from service.matching import lexical
from service.text import fold

TEXTS = [
    "Wir haben einen Bürgerhaushalt mit Online-Abstimmung eingeführt.",
    "Kinder- und Jugendbeteiligung in der Hauptsatzung verankert; Jugendparlament.",
    "Beteiligungssatzung, Leitlinien und Vorhabenliste – café, naïve, Ärger, Straße, ½.",
    "a b cd x",  # words shorter than the n-grams
    "",
    "   ",
]


def reference_counts(text: str) -> Counter[int]:
    """scikit-learn's char_wb 3-5-grams of the folded text, hashed one by one."""
    analyzer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=lexical.NGRAM_RANGE, lowercase=False, preprocessor=fold
    ).build_analyzer()
    return Counter(lexical.hash_ngram(ngram) for ngram in analyzer(text))


def row_counts(text: str) -> Counter[int]:
    row = lexical.ngram_counts([text])
    return Counter({int(c): int(v) for c, v in zip(row.indices, row.data, strict=True)})


class TestNgramCounts:
    def test_vectorized_counts_are_char_wb_ngrams(self) -> None:
        lexical._CACHE.clear()
        for text in TEXTS:
            assert row_counts(text) == reference_counts(text), text

    def test_cached_and_fresh_rows_agree_in_any_order(self) -> None:
        lexical._CACHE.clear()
        first = lexical.ngram_counts(TEXTS[:2])
        mixed = lexical.ngram_counts([TEXTS[2], TEXTS[1], TEXTS[0], TEXTS[1]])
        assert mixed.shape == (4, lexical.N_FEATURES)
        assert (mixed[2] != first[0]).nnz == 0
        assert (mixed[1] != first[1]).nnz == 0 and (mixed[3] != first[1]).nnz == 0


class TestTfidfSimilarity:
    def test_equals_scikit_learn_tfidf_on_the_same_counts(self) -> None:
        documents = lexical.ngram_counts(TEXTS[:4])
        question = lexical.ngram_counts(["Wie verankert man Jugendbeteiligung in der Satzung?"])
        ours = lexical.tfidf_similarity(question, documents)
        transformer = TfidfTransformer(sublinear_tf=True).fit(documents)
        expected = (transformer.transform(question) @ transformer.transform(documents).T).toarray()
        np.testing.assert_allclose(ours, expected, atol=1e-6)  # scikit-learn in float32

    def test_questions_after_others_score_as_on_their_own(self) -> None:
        # Ranking scores one question after another in the same thread: nothing of an
        # earlier question's documents may carry over into a later one's scores.
        question = "Wie verankert man Jugendbeteiligung in der Satzung?"
        alone = lexical.similarity(question, TEXTS[:3])
        lexical.similarity("Bürgerhaushalt online", [TEXTS[3], *TEXTS[::-1], "Satzung"])
        after = lexical.similarity(question, TEXTS[:3])
        expected = lexical.tfidf_similarity(
            lexical.ngram_counts([question]), lexical.ngram_counts(TEXTS[:3])
        )[0]
        np.testing.assert_allclose(after, alone)
        np.testing.assert_allclose(after, expected)
        assert after[1] > after[0]

    def test_compound_parts_match(self) -> None:
        documents = lexical.ngram_counts(
            ["Ich habe die Kinder- und Jugendbeteiligung aufgebaut.", "Ich plane Radwege."]
        )
        question = lexical.ngram_counts(["Jugendparlament gründen"])
        similarity = lexical.tfidf_similarity(question, documents)[0]
        assert similarity[0] > similarity[1] >= 0.0

    def test_empty_inputs(self) -> None:
        documents = lexical.ngram_counts(["", "Bürgerrat"])
        assert lexical.tfidf_similarity(lexical.ngram_counts([""]), documents).tolist() == [
            [0.0, 0.0]
        ]
        assert lexical.tfidf_similarity(documents, lexical.ngram_counts([])).shape == (2, 0)
