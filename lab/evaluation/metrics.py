"""Ranking metrics with graded judgments (grades 0-3; a member without a judgment is 0).

* nDCG@k with graded gains 2**grade - 1 and log2 discounts; the ideal ranking is built from all
  judged members of the question (callers pass the judgments that are eligible, i.e. with the
  asker's municipality removed, since those can never be suggested).
* Recall@k: the share of the clearly helpful members (grade >= 2) found in the first k.
* Reciprocal rank of the first clearly helpful member (grade >= 2); 0 when none is ranked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RELEVANT_GRADE = 2


def _gain(grade: int) -> float:
    return float(2**grade - 1)


def dcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 5) -> float:
    return sum(
        _gain(grades.get(member_id, 0)) / math.log2(position + 2)
        for position, member_id in enumerate(ranked[:k])
    )


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 5) -> float:
    """Normalized discounted cumulative gain at k; 0 when nothing is relevant."""
    ideal_order = sorted(grades, key=lambda member_id: grades[member_id], reverse=True)
    ideal = dcg_at_k(ideal_order, grades, k)
    if ideal <= 0:
        return 0.0
    return dcg_at_k(ranked, grades, k) / ideal


def recall_at_k(
    ranked: Sequence[str], grades: Mapping[str, int], k: int = 10, min_grade: int = RELEVANT_GRADE
) -> float:
    """Share of members with grade >= min_grade among the first k; 1 when there are none."""
    relevant = {member_id for member_id, grade in grades.items() if grade >= min_grade}
    if not relevant:
        return 1.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(
    ranked: Sequence[str], grades: Mapping[str, int], min_grade: int = RELEVANT_GRADE
) -> float:
    """1 / position of the first member with grade >= min_grade; 0 when none is ranked."""
    for position, member_id in enumerate(ranked):
        if grades.get(member_id, 0) >= min_grade:
            return 1.0 / (position + 1)
    return 0.0


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    title: str
    ranked: tuple[str, ...]
    grades: Mapping[str, int]
    ndcg_at_5: float
    recall_at_10: float
    reciprocal_rank: float

    @classmethod
    def score(
        cls, question_id: str, title: str, ranked: Sequence[str], grades: Mapping[str, int]
    ) -> QuestionResult:
        return cls(
            question_id=question_id,
            title=title,
            ranked=tuple(ranked),
            grades=dict(grades),
            ndcg_at_5=ndcg_at_k(ranked, grades, 5),
            recall_at_10=recall_at_k(ranked, grades, 10),
            reciprocal_rank=reciprocal_rank(ranked, grades),
        )

    @property
    def missed(self) -> tuple[str, ...]:
        """Clearly helpful members (grade >= 2) that are not in the first 10."""
        top = set(self.ranked[:10])
        return tuple(
            member_id
            for member_id, grade in sorted(self.grades.items(), key=lambda item: -item[1])
            if grade >= RELEVANT_GRADE and member_id not in top
        )


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    results: tuple[QuestionResult, ...]
    settings: Mapping[str, object] = field(default_factory=dict)

    def _mean(self, values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    @property
    def ndcg_at_5(self) -> float:
        return self._mean([result.ndcg_at_5 for result in self.results])

    @property
    def recall_at_10(self) -> float:
        return self._mean([result.recall_at_10 for result in self.results])

    @property
    def mrr(self) -> float:
        return self._mean([result.reciprocal_rank for result in self.results])

    def worst(self, n: int = 5) -> list[QuestionResult]:
        """The n questions with the lowest nDCG@5 (then recall, then id)."""
        return sorted(self.results, key=lambda r: (r.ndcg_at_5, r.recall_at_10, r.question_id))[:n]

    def summary(self) -> dict[str, float]:
        return {
            "questions": float(len(self.results)),
            "ndcg@5": self.ndcg_at_5,
            "recall@10": self.recall_at_10,
            "mrr": self.mrr,
        }

    def format(self, worst: int = 5) -> str:
        """A plain-text report: the means, then the worst questions with what they missed."""
        lines = [
            f"questions   {len(self.results)}",
            f"nDCG@5      {self.ndcg_at_5:.3f}",
            f"Recall@10   {self.recall_at_10:.3f}   (grade >= {RELEVANT_GRADE})",
            f"MRR         {self.mrr:.3f}   (first grade >= {RELEVANT_GRADE})",
        ]
        if worst > 0 and self.results:
            lines.append("worst questions:")
            for result in self.worst(worst):
                top = ", ".join(
                    f"{member_id}({result.grades.get(member_id, 0)})"
                    for member_id in result.ranked[:5]
                )
                missed = ", ".join(result.missed) or "-"
                lines.append(
                    f"  {result.question_id}  nDCG@5 {result.ndcg_at_5:.3f}  "
                    f"R@10 {result.recall_at_10:.2f}  {result.title[:60]}"
                )
                lines.append(f"      top 5: {top}   missed (grade >= 2): {missed}")
        return "\n".join(lines)
