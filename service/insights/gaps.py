"""Which questions the network could not answer well, and which of them are about one topic.

A question is not answered well when the best colleague suggested for it matched weakly: the
best suggestion's relevance (``Reasons.components.relevance``, the score before load and
feedback) below ``GAP_BELOW``, or no suggestion at all. The threshold is measured, not guessed:
``lab/evaluation/gaps.py`` takes development questions out of reach by removing every
member judged relevant to them, keeps the others fully covered, and reports how well the
threshold tells the two apart (docs/matching.md, "Gaps").

Questions not answered well are grouped when their texts are close in meaning (average
cosine similarity of their embeddings of at least ``SAME_TOPIC``); a group is labelled by the
words its questions share that carry meaning (``explain.question_words``), most frequent first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from service.matching import explain

# Calibrated on the development set (lab/evaluation/gaps.py).
GAP_BELOW = 0.35
# With the default model, three questions on broadband roll-out (pairwise cosine 0.36-0.65)
# form one group at 0.42; two development questions on different topics have a median cosine
# of 0.32 (related ones, such as participation guidelines and statutes, up to 0.59, which may
# then form one broader gap).
SAME_TOPIC = 0.42
LABEL_WORDS = 3


def poorly_answered(best_relevance: float | None) -> bool:
    return best_relevance is None or best_relevance < GAP_BELOW


def topics(vectors: npt.NDArray[np.float32], same_topic: float = SAME_TOPIC) -> list[list[int]]:
    """Groups of the rows of ``vectors`` that are about one topic: average-linkage clustering
    by cosine similarity, cut where groups are on average less similar than ``same_topic``.
    Largest group first, each in row order."""
    count = len(vectors)
    if count == 0:
        return []
    if count == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(np.asarray(vectors, dtype=np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=1.0 - same_topic, criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, group in enumerate(labels):
        groups.setdefault(int(group), []).append(index)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def label(texts: Sequence[str]) -> str:
    """The words that characterise a group of questions: the nouns carrying meaning that
    most of its questions use, as written."""
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    for text in texts:
        for key, word in explain.question_words(text).items():
            if not word[0].isupper():
                continue
            counts[key] += 1
            written.setdefault(key, word)
    # Shared by several questions first, then longer (more particular) words.
    ranked = sorted(counts, key=lambda key: (-counts[key], -len(key), key))
    return ", ".join(written[key] for key in ranked[:LABEL_WORDS])
