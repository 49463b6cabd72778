"""How well a colleague fits a question, and whether anyone in the network does.

Relevance alone does not say it: an English question's cosines to German profiles run lower
than a German one's, and some German questions score low against exactly the right colleague.
What holds across languages is how far a colleague stands above what the question reaches in
this network at all. Two calibrated estimates per candidate, each a logistic function of

* the relevance's log-odds (``rank.relevance``: dense, lexical, tag and context components), and
* the dense score above the typical member's for this question (``typical_dense``: the median
  dense score over the network, or over the candidates when they are the whole network),

give the probability that the colleague's experience fits the question at least partly
(``partly``: judged relevant, grade >= 1) and that it is clearly helpful (``clearly``: grade >= 2).

A suggestion's ``fit`` is *strong* when clearly helpful is more likely than not, *partial* when
it fits at least partly with a probability of ``covered_from`` or more, *weak* otherwise. A
question is a **gap** when no candidate fits at least partly (every one weak): the same
decision for the asker (``Question.gap``) and for the coordinator's insights.

The coefficients and the threshold are fitted on the development set and checked by
leave-one-question-out cross-validation: ``peerconsult evaluate DATA --gaps``
(``lab/evaluation/gaps.py``; docs/matching.md, "Gaps").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.questions import Fit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Logistic:
    """P = sigmoid(bias + relevance_logit * logit(relevance)
    + above_typical * (dense - typical dense))."""

    bias: float
    relevance_logit: float
    above_typical: float

    def __call__(self, relevance: FloatArray, above_typical: FloatArray) -> FloatArray:
        clipped = np.clip(np.nan_to_num(relevance, nan=0.0), 1e-6, 1.0 - 1e-6)
        logits = (
            self.bias
            + self.relevance_logit * np.log(clipped / (1.0 - clipped))
            + self.above_typical * np.nan_to_num(above_typical, nan=0.0)
        )
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FitModel:
    partly: Logistic
    clearly: Logistic
    # A candidate fits at least partly from this probability on; below it for every candidate,
    # the question is a gap.
    covered_from: float
    # Clearly helpful at least this likely: a strong fit.
    strong_from: float = 0.5
    # An open question is shown to every candidate who fits at least partly with this
    # probability or more: below ``covered_from``, because a question shown to someone who
    # cannot help costs them a line of their digest, while a colleague it misses costs the
    # consultation (docs/matching.md, "Open questions", has the measured trade-off).
    reaches_from: float = 0.40


# Fitted on every (question, member) pair of the development set with the default model
# (`peerconsult evaluate ../shared/data/dev --gaps` prints them and the cross-validation).
FIT_MODEL = FitModel(
    partly=Logistic(bias=-0.1406, relevance_logit=0.605, above_typical=6.8565),
    clearly=Logistic(bias=-1.3576, relevance_logit=0.7693, above_typical=9.4549),
    covered_from=0.61,
)

# With fewer candidates than this, their median says little about the network; the typical
# dense score is then this value (the median over the development network's questions with the
# default model).
MIN_CANDIDATES_FOR_TYPICAL = 5
DEFAULT_TYPICAL_DENSE = 0.28


def typical_dense(dense: FloatArray) -> float:
    """The dense score a typical member reaches for a question: the median over the network's
    members (or a fixed prior for a network too small to tell)."""
    if len(dense) < MIN_CANDIDATES_FOR_TYPICAL:
        return DEFAULT_TYPICAL_DENSE
    return float(np.median(dense))


@dataclass(frozen=True, slots=True)
class Fits:
    """Per-candidate probabilities, aligned with the candidates."""

    partly: FloatArray
    clearly: FloatArray

    def coverage(self) -> float:
        """The best candidate's probability of fitting at least partly (0 without candidates)."""
        return float(self.partly.max()) if len(self.partly) else 0.0


def fits(
    relevance: FloatArray, dense: FloatArray, typical: float, model: FitModel | None = None
) -> Fits:
    model = model or FIT_MODEL
    above = np.asarray(dense, dtype=np.float64) - typical
    return Fits(partly=model.partly(relevance, above), clearly=model.clearly(relevance, above))


def fit_of(partly: float, clearly: float, model: FitModel | None = None) -> Fit:
    model = model or FIT_MODEL
    if partly < model.covered_from:
        return Fit.weak
    return Fit.strong if clearly >= model.strong_from else Fit.partial


def is_gap(coverage: float | None, model: FitModel | None = None) -> bool:
    """Whether nobody fits a question whose best candidate fits at least partly with
    probability ``coverage`` (None: nobody could be suggested at all)."""
    model = model or FIT_MODEL
    return coverage is None or coverage < model.covered_from
