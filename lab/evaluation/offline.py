"""Offline evaluation: the service's ``rank`` on an evaluation set, without a database.

    peerconsult evaluate ../shared/data/dev --offline [--model minilm] [--without lexical]
    peerconsult evaluate ../shared/data/dev --offline --baseline char-tfidf
    peerconsult evaluate ../shared/data/dev --offline --cv   # leave-one-question-out

Candidates are built from the set's members exactly as the service builds them (expertise split
and embedded with ``embed_passages``), and the same hard rule
applies: nobody from the asker's municipality (same municipality name and state), the asker
included. Judgments of excluded members are dropped, since they can never be suggested.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from lab.evaluation.dataset import Dataset, DatasetMember
from lab.evaluation.metrics import (
    RELEVANT_GRADE,
    EvaluationReport,
    QuestionResult,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from service.embedding import Embedder
from service.matching.passages import WINDOW, embed_passages
from service.matching.rank import (
    DEFAULT_WEIGHTS,
    Weights,
    components,
    profile_text,
    query_text,
    rank,
    relevance,
    select,
)
from service.matching.types import Candidate, Passage, Query

COMPONENTS = ("dense", "lexical", "tags", "context", "state", "size")

# Each component of an ablation, switched off.
_SWITCHED_OFF: dict[str, Callable[[Weights], Weights]] = {
    "dense": lambda weights: replace(weights, dense=0.0),
    "lexical": lambda weights: replace(weights, lexical=0.0),
    "tags": lambda weights: replace(weights, tags=0.0, tags_text=0.0),
    "context": lambda weights: replace(weights, state=0.0, size=0.0),
    "state": lambda weights: replace(weights, state=0.0),
    "size": lambda weights: replace(weights, size=0.0),
    "load": lambda weights: replace(weights, load_penalty=0.0),
    "feedback": lambda weights: replace(weights, feedback_bonus=0.0),
}


def without(weights: Weights, component: str) -> Weights:
    """The weights with one component switched off (for ablations)."""
    switch_off = _SWITCHED_OFF.get(component)
    if switch_off is None:
        raise ValueError(f"unknown component {component!r}: use one of {sorted(_SWITCHED_OFF)}")
    return switch_off(weights)


BASELINES = ("word-tfidf", "char-tfidf", "dense-profile", "dense-char")


@dataclass(frozen=True, slots=True)
class PreparedQuestion:
    question_id: str
    title: str
    query: Query
    candidates: tuple[Candidate, ...]
    grades: Mapping[str, int]


def municipality_id(member: DatasetMember) -> str:
    return "|".join(member.municipality_key)


def build_candidates(
    dataset: Dataset, embedder: Embedder, *, window: int = WINDOW
) -> dict[str, Candidate]:
    """One Candidate per member, passages embedded in one batch as the service embeds them."""
    passage_lists, vectors = embed_passages(
        embedder, [member.expertise for member in dataset.members], window=window
    )
    candidates: dict[str, Candidate] = {}
    offset = 0
    for member, texts in zip(dataset.members, passage_lists, strict=True):
        member_passages = tuple(
            Passage(text=text, vector=vectors[offset + index]) for index, text in enumerate(texts)
        )
        offset += len(texts)
        candidates[member.id] = Candidate(
            member_id=member.id,
            name=member.name,
            municipality_id=municipality_id(member),
            municipality=member.municipality,
            state=member.state,
            municipality_kind=member.municipality_type,
            role=member.role,
            tags=member.tags,
            passages=member_passages,
        )
    return candidates


def prepare(
    dataset: Dataset, embedder: Embedder, *, window: int = WINDOW
) -> list[PreparedQuestion]:
    """Queries and eligible candidates for every question of the set."""
    candidates = build_candidates(dataset, embedder, window=window)
    texts = [f"{q.title}\n{q.body}".strip() for q in dataset.questions]
    vectors = embedder.embed_queries(texts) if texts else np.zeros((0, 1), np.float32)
    prepared: list[PreparedQuestion] = []
    for question, vector in zip(dataset.questions, vectors, strict=True):
        asker = dataset.member(question.asker_id)
        eligible = tuple(
            candidate
            for member_id, candidate in candidates.items()
            if candidate.municipality_id != municipality_id(asker) and member_id != asker.id
        )
        grades = dataset.eligible_grades(question)
        query = Query(
            title=question.title,
            body=question.body,
            tags=question.tags,
            vector=vector,
            asker_state=asker.state,
            asker_municipality_kind=asker.municipality_type,
        )
        prepared.append(PreparedQuestion(question.id, question.title, query, eligible, grades))
    return prepared


Ranker = Callable[[PreparedQuestion], Sequence[str]]


def service_ranker(
    weights: Weights = DEFAULT_WEIGHTS, *, limit: int = 10, per_municipality: int = 1
) -> Ranker:
    def ranked(item: PreparedQuestion) -> list[str]:
        suggestions = rank(
            item.query,
            item.candidates,
            limit=limit,
            per_municipality=per_municipality,
            weights=weights,
        )
        return [suggestion.member.id for suggestion in suggestions]

    return ranked


def evaluate(
    prepared: Sequence[PreparedQuestion],
    ranker: Ranker,
    settings: Mapping[str, object] | None = None,
) -> EvaluationReport:
    results = [
        QuestionResult.score(item.question_id, item.title, ranker(item), item.grades)
        for item in prepared
    ]
    return EvaluationReport(results=tuple(results), settings=dict(settings or {}))


# The grid of the leave-one-question-out cross-validation: dense fixed, the others relative to
# it (state gets the size weight: no dev question turns on Land law).
CV_GRID: dict[str, tuple[float, ...]] = {
    "dense_top": (1, 2, 3),
    "lexical": (10, 13, 16, 19, 22, 25, 30),
    "tags": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0),
    "tags_text": (0.0, 0.5, 1.0),
    "size": (0.0, 0.5, 1.0),
}
CV_DENSE = 10.0


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Leave-one-question-out: for every question, the grid point that is best on the other
    questions (nDCG@5, then Recall@10, then grid order) is scored on the held-out question."""

    ndcg_at_5: float
    recall_at_10: float
    mrr: float
    best: Weights  # best on all questions (in-sample), before calibration
    best_in_sample: tuple[float, float, float]
    folds_choosing_best: int
    calibrated: Weights  # `best` scaled by a logistic fit of grade >= 2 (slope, bias)

    def format(self) -> str:
        b = self.best
        c = self.calibrated
        return "\n".join(
            [
                f"leave-one-question-out CV  nDCG@5 {self.ndcg_at_5:.3f}  "
                f"Recall@10 {self.recall_at_10:.3f}  MRR {self.mrr:.3f}",
                f"in-sample best             nDCG@5 {self.best_in_sample[0]:.3f}  "
                f"Recall@10 {self.best_in_sample[1]:.3f}  MRR {self.best_in_sample[2]:.3f}",
                f"best point: dense_top={b.dense_top} dense={b.dense:g} lexical={b.lexical:g} "
                f"tags={b.tags:g} tags_text={b.tags_text:g} size=state={b.size:g} "
                f"(chosen in {self.folds_choosing_best} folds)",
                f"calibrated: dense={c.dense:.2f} lexical={c.lexical:.2f} tags={c.tags:.2f} "
                f"tags_text={c.tags_text:.2f} size=state={c.size:.2f} bias={c.bias:.2f}",
            ]
        )


def _grid_points(base: Weights, dense_tops: Sequence[float]) -> list[Weights]:
    grid = {**CV_GRID, "dense_top": tuple(dense_tops)}
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[key] for key in keys)):
        setting = dict(zip(keys, values, strict=True))
        points.append(
            replace(
                base,
                dense=CV_DENSE,
                dense_top=int(setting["dense_top"]),
                lexical=setting["lexical"],
                tags=setting["tags"],
                tags_text=setting["tags_text"],
                size=setting["size"],
                state=setting["size"],
                bias=0.0,
            )
        )
    return points


def cross_validate(
    prepared: Sequence[PreparedQuestion],
    *,
    per_municipality: int = 1,
    limit: int = 10,
    dense_tops: Sequence[float] = CV_GRID["dense_top"],
) -> CrossValidation:
    """Leave-one-question-out cross-validation of the grid ``CV_GRID`` with the service's own
    components and selection (diversity rule included)."""
    from sklearn.linear_model import LogisticRegression

    points = _grid_points(DEFAULT_WEIGHTS, dense_tops)
    parts = {
        (top, item.question_id): components(
            item.query, item.candidates, replace(DEFAULT_WEIGHTS, dense_top=int(top))
        )
        for top in dense_tops
        for item in prepared
    }
    table = np.zeros((len(points), len(prepared), 3), dtype=np.float64)
    for p, weights in enumerate(points):
        for q, item in enumerate(prepared):
            scores = relevance(parts[(weights.dense_top, item.question_id)], weights)
            chosen, _ = select(
                item.candidates,
                scores,
                limit=limit,
                per_municipality=per_municipality,
                duplicate_similarity=weights.duplicate_similarity,
            )
            ranked = [item.candidates[i].member_id for i in chosen]
            table[p, q] = (
                ndcg_at_k(ranked, item.grades, 5),
                recall_at_k(ranked, item.grades, 10),
                reciprocal_rank(ranked, item.grades),
            )

    def best_on(mask: npt.NDArray[np.bool_]) -> int:
        means = np.round(table[:, mask, :2].mean(axis=1), 9)
        # lexicographic: nDCG@5, then Recall@10; the first grid point wins ties
        return int(np.lexsort((-means[:, 1], -means[:, 0]))[0])

    held_out = []
    choices: Counter[int] = Counter()
    for q in range(len(prepared)):
        mask = np.ones(len(prepared), dtype=bool)
        mask[q] = False
        choice = best_on(mask)
        choices[choice] += 1
        held_out.append(table[choice, q])
    best = best_on(np.ones(len(prepared), dtype=bool))
    cv = np.mean(held_out, axis=0)
    insample = table[best].mean(axis=0)

    # Calibration: one slope and one bias so that relevance reads as P(grade >= 2).
    weights = points[best]
    logits: list[float] = []
    labels: list[int] = []
    for item in prepared:
        linear = relevance(parts[(weights.dense_top, item.question_id)], weights)
        logits.extend(np.log(linear / (1.0 - linear)).tolist())
        labels.extend(
            int(item.grades.get(c.member_id, 0) >= RELEVANT_GRADE) for c in item.candidates
        )
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(np.array(logits)[:, None], labels)
    slope, bias = float(fit.coef_[0][0]), float(fit.intercept_[0])
    calibrated = replace(
        weights,
        dense=slope * weights.dense,
        lexical=slope * weights.lexical,
        tags=slope * weights.tags,
        tags_text=slope * weights.tags_text,
        size=slope * weights.size,
        state=slope * weights.state,
        bias=bias,
    )
    return CrossValidation(
        ndcg_at_5=float(cv[0]),
        recall_at_10=float(cv[1]),
        mrr=float(cv[2]),
        best=weights,
        best_in_sample=(float(insample[0]), float(insample[1]), float(insample[2])),
        folds_choosing_best=choices[best],
        calibrated=calibrated,
    )


def baseline_ranker(name: str, embedder: Embedder, *, limit: int = 10) -> Ranker:
    """The simple baselines of DESIGN.md: one document per member (expertise, role, tags) against
    title, body and tags of the question; no passages, no diversity."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def tfidf(item: PreparedQuestion, analyzer: str) -> npt.NDArray[np.float64]:
        if analyzer == "word":
            vectorizer = TfidfVectorizer(sublinear_tf=True)
        else:
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        documents = vectorizer.fit_transform([profile_text(c) for c in item.candidates])
        question = vectorizer.transform([query_text(item.query)])
        return np.asarray((documents @ question.T).toarray(), dtype=np.float64).ravel()

    def dense(item: PreparedQuestion) -> npt.NDArray[np.float64]:
        profiles = embedder.embed_documents([profile_text(c) for c in item.candidates])
        question = embedder.embed_queries([query_text(item.query)])[0]
        return np.asarray(profiles @ question, dtype=np.float64)

    def zscore(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        spread = float(values.std()) or 1.0
        return np.asarray((values - values.mean()) / spread, dtype=np.float64)

    def ranked(item: PreparedQuestion) -> list[str]:
        if name == "word-tfidf":
            scores = tfidf(item, "word")
        elif name == "char-tfidf":
            scores = tfidf(item, "char")
        elif name == "dense-profile":
            scores = dense(item)
        elif name == "dense-char":
            scores = zscore(dense(item)) + zscore(tfidf(item, "char"))
        else:
            raise ValueError(f"unknown baseline {name!r}: use one of {BASELINES}")
        order = np.argsort(-scores, kind="stable")[:limit]
        return [item.candidates[int(i)].member_id for i in order]

    return ranked


@dataclass(frozen=True, slots=True)
class Options:
    """What ``peerconsult evaluate --offline`` varies."""

    without: tuple[str, ...] = ()
    baseline: str | None = None
    cross_validate: bool = False
    dense_top: int | None = None
    window: int = WINDOW
    per_municipality: int = 1
    worst: int = 5


def report(dataset: Dataset, embedder: Embedder, options: Options) -> str:
    """The offline evaluation of ``dataset`` as text: the service's ranker (with components
    switched off), a baseline, or the leave-one-question-out cross-validation of the grid."""
    prepared = prepare(dataset, embedder, window=options.window)
    if options.cross_validate:
        tops = CV_GRID["dense_top"] if options.dense_top is None else (options.dense_top,)
        validation = cross_validate(
            prepared, per_municipality=options.per_municipality, dense_tops=tops
        )
        heading = (
            f"model={embedder.name}, window={options.window}, "
            f"per_municipality={options.per_municipality}"
        )
        return f"{heading}\n{validation.format()}"
    if options.baseline:
        ranker = baseline_ranker(options.baseline, embedder)
        settings: dict[str, object] = {"baseline": options.baseline, "model": embedder.name}
    else:
        weights = DEFAULT_WEIGHTS
        if options.dense_top is not None:
            weights = replace(weights, dense_top=options.dense_top)
        for component in options.without:
            weights = without(weights, component)
        ranker = service_ranker(weights, per_municipality=options.per_municipality)
        settings = {
            "model": embedder.name,
            "without": list(options.without),
            "window": options.window,
            "dense_top": weights.dense_top,
        }
    evaluated = evaluate(prepared, ranker, settings)
    heading = ", ".join(f"{key}={value}" for key, value in settings.items())
    return f"{heading}\n{evaluated.format(worst=options.worst)}"
