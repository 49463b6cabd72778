"""Which shared outcomes of earlier consultations are relevant to a question: each outcome is
read as a small profile (its question and what came out of it, with the question's tags) and
scored by the ranker's own components, relevance and fit model, so that "relevant" means what it
means for a colleague: it fits the question at least partly with a probability of
``RELATED_FROM`` or more, judged against the network's typical member. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.matching import fit
from service.matching.rank import components, relevance
from service.matching.types import Candidate, Passage, Query

# docs/matching.md, "What the network worked out", has the measurement behind it.
RELATED_FROM = 0.50
# At most this many related outcomes answer a question.
RELATED_LIMIT = 3


@dataclass(frozen=True, slots=True)
class OutcomeText:
    """A shared outcome as matching reads it, with the cosines of its two embeddings (the
    question with its outcome, and the outcome alone) to the question asked."""

    key: str
    title: str
    body: str
    text: str
    tags: tuple[str, ...]
    similarities: tuple[float, ...]


def score(
    query: Query,
    outcomes: Sequence[OutcomeText],
    *,
    typical: float,
    minimum: float = RELATED_FROM,
) -> list[tuple[str, float]]:
    """The relevant outcomes' keys with their probability of fitting the question at least
    partly, best first (only those of ``minimum`` or more)."""
    if not outcomes:
        return []
    candidates = [
        Candidate(
            member_id=outcome.key,
            name="",
            municipality_id=outcome.key,
            municipality="",
            state="",
            municipality_kind=None,
            role="",
            tags=outcome.tags,
            passages=tuple(
                Passage(text, None, similarity, True)
                for text, similarity in zip(
                    (f"{outcome.title}\n{outcome.body}\n{outcome.text}", outcome.text),
                    outcome.similarities,
                    strict=False,
                )
            ),
        )
        for outcome in outcomes
    ]
    # Context (same Land, similar size) is about colleagues, not about what was worked out.
    plain = Query(
        title=query.title, body=query.body, tags=query.tags, vector=query.vector, asker_state=""
    )
    parts = components(plain, candidates)
    partly = fit.fits(relevance(parts), parts.dense, typical).partly
    order = np.argsort(-partly, kind="stable")
    return [
        (outcomes[index].key, round(float(partly[index]), 4))
        for index in order
        if partly[index] >= minimum
    ]
