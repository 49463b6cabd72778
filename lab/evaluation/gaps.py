"""Fitting and checking the fit model (``service/matching/fit.py``): how well a colleague fits a
question, and whether a question is a gap.

    peerconsult evaluate ../shared/data/dev --gaps

Every question of a judged set is ranked with the service's own components in two versions:
*covered* (the whole network) and *out of reach* (every member judged relevant to it, grade >= 1,
removed). A gap detector should flag the second and not the first.

The two logistic estimates (fits at least partly: grade >= 1; clearly helpful: grade >= 2) are
fitted on every (question, member) pair of the covered versions, on two features: the
relevance's log-odds and the dense score above the typical member's. The gap threshold is the one
with the best F1 among those with a precision of at least ``MIN_PRECISION`` on the covered and
out-of-reach versions (the middle of the best run of thresholds).

Leave-one-question-out cross-validation repeats all of it without the held-out question and
decides that question's two versions, so that every figure is on a question the model and the
threshold never saw. Precision and recall come with Wilson 95 % intervals; the fits of the five
suggestions shown are checked against the judgments the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lab.evaluation.dataset import load_dataset
from lab.evaluation.offline import PreparedQuestion, prepare
from models.questions import Fit
from service.embedding import Embedder
from service.matching import fit
from service.matching.rank import components, relevance

FloatArray = npt.NDArray[np.float64]

MIN_PRECISION = 0.95
THRESHOLDS = tuple(step / 100 for step in range(1, 100))
SHOWN = 5


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a question, as the fit model sees its candidates."""

    question_id: str
    out_of_reach: bool
    relevance: FloatArray
    above_typical: FloatArray
    grades: npt.NDArray[np.int64]


def _version(item: PreparedQuestion, out_of_reach: bool) -> Version:
    judged = {member for member, grade in item.grades.items() if grade >= 1}
    candidates = [c for c in item.candidates if not (out_of_reach and c.member_id in judged)]
    parts = components(item.query, candidates)
    return Version(
        question_id=item.question_id,
        out_of_reach=out_of_reach,
        relevance=relevance(parts),
        above_typical=parts.dense - fit.typical_dense(parts.dense),
        grades=np.array([item.grades.get(c.member_id, 0) for c in candidates], dtype=np.int64),
    )


def versions(prepared: Sequence[PreparedQuestion]) -> list[Version]:
    """Each question with a judged colleague, covered and out of reach."""
    return [
        _version(item, out_of_reach)
        for item in prepared
        if any(grade >= 1 for grade in item.grades.values())
        for out_of_reach in (False, True)
    ]


def _logistic(found: Sequence[Version], min_grade: int) -> fit.Logistic:
    from sklearn.linear_model import LogisticRegression

    covered = [v for v in found if not v.out_of_reach]
    clipped = np.clip(np.concatenate([v.relevance for v in covered]), 1e-6, 1 - 1e-6)
    features = np.column_stack(
        [np.log(clipped / (1 - clipped)), np.concatenate([v.above_typical for v in covered])]
    )
    labels = np.concatenate([v.grades >= min_grade for v in covered]).astype(int)
    model = LogisticRegression(C=1e4, max_iter=1000).fit(features, labels)
    (relevance_logit, above_typical), bias = model.coef_[0], model.intercept_[0]
    return fit.Logistic(
        bias=round(float(bias), 4),
        relevance_logit=round(float(relevance_logit), 4),
        above_typical=round(float(above_typical), 4),
    )


def coverage(version: Version, model: fit.FitModel) -> float:
    return fit.fits(version.relevance, version.above_typical, 0.0, model).coverage()


@dataclass(frozen=True, slots=True)
class Detection:
    flagged_out_of_reach: int
    out_of_reach: int
    flagged_covered: int

    @property
    def precision(self) -> float:
        flagged = self.flagged_out_of_reach + self.flagged_covered
        return self.flagged_out_of_reach / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.flagged_out_of_reach / self.out_of_reach if self.out_of_reach else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def detect(coverages: Sequence[tuple[float, bool]], threshold: float) -> Detection:
    """How a threshold tells the (coverage, out of reach) versions apart."""
    return Detection(
        flagged_out_of_reach=sum(1 for c, out in coverages if out and c < threshold),
        out_of_reach=sum(1 for _, out in coverages if out),
        flagged_covered=sum(1 for c, out in coverages if not out and c < threshold),
    )


def best_threshold(coverages: Sequence[tuple[float, bool]]) -> float:
    """The best F1 among thresholds precise enough (any, when none is); the middle of the run
    of thresholds that share it."""
    detections = [detect(coverages, threshold) for threshold in THRESHOLDS]
    precise = [d.precision >= MIN_PRECISION for d in detections]
    keys = [
        (p or not any(precise), round(d.f1, 9)) for p, d in zip(precise, detections, strict=True)
    ]
    best = max(keys)
    run = [index for index, key in enumerate(keys) if key == best]
    # The longest stretch of consecutive best thresholds, and its middle.
    stretches: list[list[int]] = []
    for index in run:
        if stretches and stretches[-1][-1] == index - 1:
            stretches[-1].append(index)
        else:
            stretches.append([index])
    longest = max(stretches, key=len)
    return THRESHOLDS[longest[len(longest) // 2]]


def fit_model(found: Sequence[Version]) -> fit.FitModel:
    """The fit model of these versions: both estimates, then the gap threshold."""
    unthresholded = fit.FitModel(
        partly=_logistic(found, 1), clearly=_logistic(found, 2), covered_from=0.5
    )
    threshold = best_threshold([(coverage(v, unthresholded), v.out_of_reach) for v in found])
    return fit.FitModel(
        partly=unthresholded.partly, clearly=unthresholded.clearly, covered_from=threshold
    )


@dataclass(frozen=True, slots=True)
class ShownFits:
    """The fits of the suggestions shown (the covered versions' best ``SHOWN`` by relevance),
    against the judgments."""

    strong: int
    strong_helpful: int  # of them judged clearly helpful (grade >= 2)
    partial: int
    partial_relevant: int  # of them judged relevant at all (grade >= 1)
    weak: int
    weak_unjudged: int  # of them judged not relevant (grade 0)


def shown_fits(found: Sequence[tuple[Version, fit.FitModel]]) -> ShownFits:
    counts = dict.fromkeys(
        ("strong", "strong_helpful", "partial", "partial_relevant", "weak", "weak_unjudged"), 0
    )
    for version, model in found:
        fits = fit.fits(version.relevance, version.above_typical, 0.0, model)
        for index in np.argsort(-version.relevance, kind="stable")[:SHOWN]:
            label = fit.fit_of(float(fits.partly[index]), float(fits.clearly[index]), model)
            grade = int(version.grades[index])
            counts[label.value] += 1
            if label is Fit.strong:
                counts["strong_helpful"] += grade >= 2
            elif label is Fit.partial:
                counts["partial_relevant"] += grade >= 1
            else:
                counts["weak_unjudged"] += grade == 0
    return ShownFits(**counts)


@dataclass(frozen=True, slots=True)
class Reach:
    """Whom an open question reaches (every candidate who fits at least partly), against the
    judgments: the covered versions' audiences, and how many a question nobody covers would
    still reach (its out-of-reach version)."""

    questions: int
    reached: int  # members shown a covered question, summed over the questions
    reached_relevant: int  # of them judged relevant (grade >= 1)
    relevant: int  # members judged relevant, summed over the questions
    helpful: int  # members judged clearly helpful (grade >= 2)
    helpful_reached: int
    unreached_questions: int  # covered questions that reach nobody
    reached_out_of_reach: int  # members shown the out-of-reach versions, summed


# The audience thresholds the report compares (fits at least partly with this probability).
REACH_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def reach(found: Sequence[tuple[Version, fit.FitModel]], threshold: float) -> Reach:
    """Whom the open questions reach when shown to every candidate with a probability of
    fitting at least partly of ``threshold`` or more."""
    counts = dict.fromkeys(Reach.__slots__, 0)
    for version, model in found:
        fits = fit.fits(version.relevance, version.above_typical, 0.0, model)
        shown = fits.partly >= threshold
        if version.out_of_reach:
            counts["reached_out_of_reach"] += int(shown.sum())
            continue
        counts["questions"] += 1
        counts["reached"] += int(shown.sum())
        counts["reached_relevant"] += int((shown & (version.grades >= 1)).sum())
        counts["relevant"] += int((version.grades >= 1).sum())
        counts["helpful"] += int((version.grades >= 2).sum())
        counts["helpful_reached"] += int((shown & (version.grades >= 2)).sum())
        counts["unreached_questions"] += not shown.any()
    return Reach(**counts)


@dataclass(frozen=True, slots=True)
class CrossValidation:
    detection: Detection
    shown: ShownFits
    # By audience threshold: the service's (``FIT_MODEL.reaches_from``) and REACH_THRESHOLDS.
    reach: dict[float, Reach]
    # The held-out questions flagged in their covered version.
    flagged_covered: tuple[str, ...]
    thresholds: tuple[float, ...]


def cross_validate(found: Sequence[Version]) -> CrossValidation:
    """Leave one question out: fit on the others, decide the held-out question's versions."""
    questions = list(dict.fromkeys(v.question_id for v in found))
    decided: list[tuple[float, bool]] = []
    thresholds: list[float] = []
    flagged: list[str] = []
    held_fits: list[tuple[Version, fit.FitModel]] = []
    held_versions: list[tuple[Version, fit.FitModel]] = []
    for question in questions:
        model = fit_model([v for v in found if v.question_id != question])
        thresholds.append(model.covered_from)
        for version in (v for v in found if v.question_id == question):
            value = coverage(version, model)
            # Decided with the fold's threshold: shifted so that one threshold serves all folds.
            decided.append((value - model.covered_from + 0.5, version.out_of_reach))
            held_versions.append((version, model))
            if not version.out_of_reach:
                held_fits.append((version, model))
                if value < model.covered_from:
                    flagged.append(question)
    return CrossValidation(
        detection=detect(decided, 0.5),
        shown=shown_fits(held_fits),
        reach={
            threshold: reach(held_versions, threshold)
            for threshold in sorted({fit.FIT_MODEL.reaches_from, *REACH_THRESHOLDS})
        },
        flagged_covered=tuple(flagged),
        thresholds=tuple(thresholds),
    )


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default)."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    spread = (
        z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    )
    return max(0.0, centre - spread), min(1.0, centre + spread)


def _share(successes: int, trials: int) -> str:
    low, high = wilson(successes, trials)
    value = successes / trials if trials else 1.0
    return f"{value:.3f} ({successes}/{trials}, 95 % CI {low:.2f}-{high:.2f})"


@dataclass(frozen=True, slots=True)
class Calibration:
    questions: int
    fitted: fit.FitModel  # on every question of the set
    validation: CrossValidation
    service: Detection  # the service's own model on the set (in sample)
    service_flagged_covered: tuple[str, ...]


def calibrate(dataset_dir: str, embedder: Embedder) -> Calibration:
    found = versions(prepare(load_dataset(dataset_dir), embedder))
    model = fit.FIT_MODEL
    return Calibration(
        questions=len(found) // 2,
        fitted=fit_model(found),
        validation=cross_validate(found),
        service=detect([(coverage(v, model), v.out_of_reach) for v in found], model.covered_from),
        service_flagged_covered=tuple(
            v.question_id
            for v in found
            if not v.out_of_reach and coverage(v, model) < model.covered_from
        ),
    )


def _model(model: fit.FitModel) -> str:
    return (
        ", ".join(
            f"{name}: bias {m.bias}, relevance log-odds {m.relevance_logit}, "
            f"dense above typical {m.above_typical}"
            for name, m in (("partly", model.partly), ("clearly", model.clearly))
        )
        + f"; gap below {model.covered_from:.2f}"
    )


_SERVICE = " (the service's)"


def _reach(found: Reach) -> str:
    return (
        f"{found.reached / max(1, found.questions):.1f} members per question, of them relevant "
        f"{_share(found.reached_relevant, found.reached)}; relevant members reached "
        f"{_share(found.reached_relevant, found.relevant)}; clearly helpful ones reached "
        f"{_share(found.helpful_reached, found.helpful)}; reaching nobody "
        f"{found.unreached_questions} of {found.questions}; nobody covering it, a question "
        f"reaches {found.reached_out_of_reach / max(1, found.questions):.1f}"
    )


def report(dataset_dir: str, embedder: Embedder) -> str:
    """The fitted model, its cross-validation and the service's own model on the set, as text."""
    found = calibrate(dataset_dir, embedder)
    d, shown = found.validation.detection, found.validation.shown
    flagged = d.flagged_out_of_reach + d.flagged_covered
    thresholds = found.validation.thresholds
    return "\n".join(
        [
            f"fitted on all {found.questions} questions: {_model(found.fitted)}",
            f"service model: {_model(fit.FIT_MODEL)}",
            "cross-validated (leave one question out, each decided by a model and threshold "
            "fitted without it):",
            f"  gap precision {_share(d.flagged_out_of_reach, flagged)}",
            f"  gap recall    {_share(d.flagged_out_of_reach, d.out_of_reach)}",
            "  covered questions flagged: "
            + (", ".join(found.validation.flagged_covered) or "none"),
            f"  thresholds chosen: {min(thresholds):.2f}-{max(thresholds):.2f}",
            f"  fits of the {SHOWN} shown: strong {shown.strong}, of them clearly helpful "
            f"{_share(shown.strong_helpful, shown.strong)}; partial {shown.partial}, of them "
            f"relevant {_share(shown.partial_relevant, shown.partial)}; weak {shown.weak}, of "
            f"them not relevant {_share(shown.weak_unjudged, shown.weak)}",
            "  open questions, shown to whoever fits at least partly with a probability of:",
            *(
                f"    {threshold:.2f}{_SERVICE * (threshold == fit.FIT_MODEL.reaches_from)}: "
                + _reach(reached)
                for threshold, reached in found.validation.reach.items()
            ),
            f"service model in sample: precision {found.service.precision:.3f}, recall "
            f"{found.service.recall:.3f}; covered questions flagged: "
            + (", ".join(found.service_flagged_covered) or "none"),
        ]
    )
