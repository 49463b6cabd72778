"""Offline evaluation: the service's ``rank`` on an evaluation set, without a database.

    python -m service.evaluation.offline ../shared/data/dev [--model minilm] [--without lexical]
    python -m service.evaluation.offline ../shared/data/dev --baseline char-tfidf

Candidates are built from the set's members exactly as the service builds them (expertise split
with ``split_passages``, each passage embedded with ``embed_documents``), and the same hard rule
applies: nobody from the asker's municipality (same municipality name and state), the asker
included. Judgments of excluded members are dropped, since they can never be suggested.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.evaluation.dataset import Dataset, DatasetError, DatasetMember, load_dataset
from service.evaluation.metrics import EvaluationReport, QuestionResult
from service.matching.passages import WINDOW, split_passages
from service.matching.rank import (
    DEFAULT_WEIGHTS,
    Weights,
    profile_text,
    query_text,
    rank,
    without,
)
from service.matching.types import Candidate, Passage, Query

COMPONENTS = ("dense", "lexical", "tags", "context", "state", "size")
BASELINES = ("word-tfidf", "char-tfidf", "dense-profile", "dense-char")


class Embedder:
    """What the harness needs from ``service.embeddings.Embedder``."""

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        raise NotImplementedError

    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        raise NotImplementedError


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
    """One Candidate per member, passages embedded in one batch."""
    passages = {
        member.id: split_passages(member.expertise, window=window) for member in dataset.members
    }
    texts = [text for member in dataset.members for text in passages[member.id]]
    vectors = embedder.embed_documents(texts) if texts else np.zeros((0, 1), np.float32)
    candidates: dict[str, Candidate] = {}
    offset = 0
    for member in dataset.members:
        member_passages = []
        for text in passages[member.id]:
            member_passages.append(Passage(text=text, vector=vectors[offset]))
            offset += 1
        candidates[member.id] = Candidate(
            member_id=member.id,
            name=member.name,
            municipality_id=municipality_id(member),
            municipality=member.municipality,
            state=member.state,
            municipality_kind=member.municipality_type,
            role=member.role,
            tags=member.tags,
            passages=tuple(member_passages),
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
        eligible_ids = {candidate.member_id for candidate in eligible}
        grades = {
            member_id: grade
            for member_id, grade in dataset.qrels.get(question.id, {}).items()
            if member_id in eligible_ids
        }
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
        return [suggestion.member_id for suggestion in suggestions]

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


def load_model(name: str) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from service.embeddings import load_embedder

    embedder: Embedder = load_embedder(name)  # type: ignore[assignment]
    return embedder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.evaluation.offline",
        description="nDCG@5, Recall@10 and MRR of the ranker on an evaluation set",
    )
    parser.add_argument("dataset", help="directory with members.json, questions.json, qrels.json")
    parser.add_argument("--model", default="use-multilingual-v3", help="embedding model")
    parser.add_argument(
        "--without", action="append", default=[], choices=COMPONENTS, help="disable a component"
    )
    parser.add_argument("--baseline", choices=BASELINES, help="run a simple baseline instead")
    parser.add_argument("--per-municipality", type=int, default=1)
    parser.add_argument(
        "--window", type=int, default=WINDOW, help="passages: runs of up to N sentences"
    )
    parser.add_argument("--worst", type=int, default=5, help="how many worst questions to show")
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.dataset)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    embedder = load_model(args.model)
    prepared = prepare(dataset, embedder, window=args.window)
    if args.baseline:
        ranker = baseline_ranker(args.baseline, embedder)
        settings: dict[str, object] = {"baseline": args.baseline, "model": args.model}
    else:
        weights = DEFAULT_WEIGHTS
        for component in args.without:
            weights = without(weights, component)
        ranker = service_ranker(weights, per_municipality=args.per_municipality)
        settings = {"model": args.model, "without": args.without, "window": args.window}
    report = evaluate(prepared, ranker, settings)
    print(", ".join(f"{key}={value}" for key, value in settings.items()))
    print(report.format(worst=args.worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
