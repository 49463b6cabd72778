"""How well gap detection tells a question the network cannot answer from one it can.

    peerconsult evaluate ../shared/data/dev --gaps [--model minilm]

Every question of a judged set is ranked twice with the service's ``rank``: in the whole
network ("covered"), and with every member judged relevant to it (grade >= 1) removed ("out of
reach"). The detector flags a question when its best suggestion's relevance is below a
threshold (``service.insights.gaps.GAP_BELOW``); it should flag the out-of-reach versions and
not the covered ones. The threshold is chosen on one split of the questions (those at even
positions, best F1) and reported on both, the other split untouched by the choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lab.evaluation.dataset import load_dataset
from lab.evaluation.offline import PreparedQuestion, prepare
from service.embedding import Embedder
from service.insights.gaps import GAP_BELOW
from service.matching.rank import rank


@dataclass(frozen=True, slots=True)
class Example:
    question_id: str
    out_of_reach: bool
    best_relevance: float | None


@dataclass(frozen=True, slots=True)
class Detection:
    threshold: float
    precision: float
    recall: float
    examples: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _best_relevance(item: PreparedQuestion, without: frozenset[str]) -> float | None:
    candidates = [c for c in item.candidates if c.member_id not in without]
    found = rank(item.query, candidates, limit=1)
    return found[0].reasons.components.relevance if found else None


def examples(prepared: Sequence[PreparedQuestion]) -> list[Example]:
    """Each question covered and out of reach."""
    found = []
    for item in prepared:
        relevant = frozenset(member for member, grade in item.grades.items() if grade >= 1)
        if not relevant:
            continue
        found.append(Example(item.question_id, False, _best_relevance(item, frozenset())))
        found.append(Example(item.question_id, True, _best_relevance(item, relevant)))
    return found


def detect(found: Sequence[Example], threshold: float) -> Detection:
    flagged = [e for e in found if e.best_relevance is None or e.best_relevance < threshold]
    right = sum(1 for e in flagged if e.out_of_reach)
    out_of_reach = sum(1 for e in found if e.out_of_reach)
    return Detection(
        threshold=threshold,
        precision=right / len(flagged) if flagged else 1.0,
        recall=right / out_of_reach if out_of_reach else 1.0,
        examples=len(found),
    )


def split(found: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """The examples of the questions at even positions, and of those at odd ones."""
    order = list(dict.fromkeys(e.question_id for e in found))
    tuning = set(order[0::2])
    return (
        [e for e in found if e.question_id in tuning],
        [e for e in found if e.question_id not in tuning],
    )


def best_threshold(found: Sequence[Example]) -> Detection:
    """The threshold with the best F1 (the higher precision on a tie)."""
    thresholds = [step / 100 for step in range(5, 96)]
    return max(
        (detect(found, threshold) for threshold in thresholds),
        key=lambda d: (round(d.f1, 9), d.precision),
    )


def calibrate(dataset_dir: str, embedder: Embedder) -> dict[str, Detection]:
    found = examples(prepare(load_dataset(dataset_dir), embedder))
    tuning, held_out = split(found)
    chosen = best_threshold(tuning)
    return {
        "chosen on the tuning split": chosen,
        "service threshold, tuning split": detect(tuning, GAP_BELOW),
        "service threshold, held-out split": detect(held_out, GAP_BELOW),
        "service threshold, all": detect(found, GAP_BELOW),
    }


def report(dataset_dir: str, embedder: Embedder) -> str:
    """The calibration as text, a line per split."""
    return "\n".join(
        f"{name}: threshold {detection.threshold:.2f}, precision {detection.precision:.3f}, "
        f"recall {detection.recall:.3f} ({detection.examples} examples)"
        for name, detection in calibrate(dataset_dir, embedder).items()
    )
