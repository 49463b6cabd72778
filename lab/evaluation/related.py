"""How well ``related`` finds what the network already worked out, measured on a judged set.

    peerconsult evaluate ../shared/data/dev --related

A judged set holds no outcomes, so each question stands in for an earlier consultation: its
body (without its title), and as what came out of it the sentence of its best judged
colleague's profile that matches it best (what that colleague would have told the asker). Each
question is then asked again in other words, by its title alone, and scored against all these
outcomes with the service's own ``matching.related.score``. Its own earlier consultation is
related to it, and so is another's where one colleague is judged clearly helpful (grade >= 2)
for both; the others are not. The report gives, per threshold, how many outcomes the questions
are answered with (at most 3 each), the share of them related (precision, with its Wilson
interval), and for how many questions their own consultation comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lab.evaluation.dataset import load_dataset
from lab.evaluation.gaps import wilson
from lab.evaluation.offline import PreparedQuestion, prepare
from service.embedding import Embedder
from service.matching import fit
from service.matching import related as matching
from service.matching.rank import components

THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.61, 0.7, 0.8)


@dataclass(frozen=True, slots=True)
class Pair:
    asked: str
    earlier: str
    score: float
    related: bool


def _outcome(item: PreparedQuestion) -> str:
    """The sentence of the question's best judged colleague that matches it best."""
    best = max(item.grades, key=lambda member: (item.grades[member], member))
    [candidate] = [c for c in item.candidates if c.member_id == best]
    sentence = components(item.query, [candidate]).best_passage[0]
    return sentence or ""


def pairs(prepared: Sequence[PreparedQuestion], embedder: Embedder) -> list[Pair]:
    judged = [item for item in prepared if any(g >= 2 for g in item.grades.values())]
    helpful = {
        item.question_id: {m for m, grade in item.grades.items() if grade >= 2} for item in judged
    }
    texts = {item.question_id: _outcome(item) for item in judged}
    documents = embedder.embed_documents(
        [
            text
            for item in judged
            for text in (
                f"{item.query.title}\n{item.query.body}\n{texts[item.question_id]}",
                texts[item.question_id],
            )
        ]
    )
    vectors = {item.question_id: documents[2 * n : 2 * n + 2] for n, item in enumerate(judged)}
    titles = embedder.embed_queries([item.query.title for item in judged])
    found: list[Pair] = []
    for asked, title_vector in zip(judged, titles, strict=True):
        query = replace(asked.query, body="", vector=title_vector)
        typical = fit.typical_dense(components(query, asked.candidates).dense)
        outcomes = [
            matching.OutcomeText(
                key=item.question_id,
                title="",
                body=item.query.body,
                text=texts[item.question_id],
                tags=item.query.tags,
                similarities=tuple(float(v @ title_vector) for v in vectors[item.question_id]),
            )
            for item in judged
        ]
        for key, score in matching.score(query, outcomes, typical=typical, minimum=0.0):
            related = key == asked.question_id or bool(helpful[asked.question_id] & helpful[key])
            found.append(Pair(asked.question_id, key, score, related))
    return found


def _first(shown: Sequence[Pair], question: str) -> str | None:
    """The outcome shown first for the question, if any."""
    mine = [pair for pair in shown if pair.asked == question]
    return max(mine, key=lambda pair: pair.score).earlier if mine else None


def report(dataset_dir: str, embedder: Embedder) -> str:
    found = pairs(prepare(load_dataset(dataset_dir), embedder), embedder)
    questions = sorted({pair.asked for pair in found})
    related_pairs = sum(pair.related for pair in found)
    lines = [
        f"{len(questions)} questions asked by their titles against the earlier consultations of "
        f"all; {related_pairs} related pairs (the same question, or a colleague clearly helpful "
        "for both)",
    ]
    for threshold in sorted({*THRESHOLDS, matching.RELATED_FROM}):
        shown: list[Pair] = []
        for question in questions:
            above = sorted(
                (p for p in found if p.asked == question and p.score >= threshold),
                key=lambda p: -p.score,
            )
            shown += above[: matching.RELATED_LIMIT]
        right = sum(p.related for p in shown)
        low, high = wilson(right, len(shown))
        answered = len({p.asked for p in shown})
        service = " (the service's)" if threshold == matching.RELATED_FROM else ""
        lines.append(
            f"  from {threshold:.2f}{service}: {len(shown)} shown to {answered} of "
            f"{len(questions)} questions, related {right / max(1, len(shown)):.3f} "
            f"({right}/{len(shown)}, 95 % CI {low:.2f}-{high:.2f}); related pairs found "
            f"{right}/{related_pairs}; own consultation first for "
            f"{sum(1 for q in questions if _first(shown, q) == q)}"
        )
    return "\n".join(lines)
