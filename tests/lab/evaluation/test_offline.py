"""Metrics, dataset validation and the development-set floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.evaluation.dataset import DatasetError, load_dataset
from lab.evaluation.metrics import (
    EvaluationReport,
    QuestionResult,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from service.embedding import Embedder
from tests.helpers.data import DEV_SET, needs_dev_set


class TestMetrics:
    def test_ndcg_perfect_and_empty(self) -> None:
        grades = {"a": 3, "b": 2, "c": 1}
        assert ndcg_at_k(["a", "b", "c"], grades) == pytest.approx(1.0)
        assert ndcg_at_k(["x", "y"], grades) == 0.0
        assert ndcg_at_k(["a"], {}) == 0.0
        assert 0.0 < ndcg_at_k(["b", "a", "c"], grades) < 1.0

    def test_recall_counts_grade_two_and_up(self) -> None:
        grades = {"a": 3, "b": 2, "c": 1}
        assert recall_at_k(["a", "c"], grades, 10) == 0.5
        assert recall_at_k(["c"], {"c": 1}, 10) == 1.0

    def test_reciprocal_rank(self) -> None:
        assert reciprocal_rank(["c", "x", "b"], {"b": 2, "c": 1}) == pytest.approx(1 / 3)
        assert reciprocal_rank(["c"], {"c": 1}) == 0.0

    def test_report_worst(self) -> None:
        good = QuestionResult.score("q1", "gut", ["a"], {"a": 3})
        bad = QuestionResult.score("q2", "schlecht", ["x"], {"a": 3})
        report = EvaluationReport(results=(good, bad))
        assert report.worst(1) == [bad]
        assert report.ndcg_at_5 == pytest.approx(0.5)
        assert "q2" in report.format()


class TestDataset:
    def test_clear_error_for_unknown_member(self, tmp_path: Path) -> None:
        member = {
            "id": "m1",
            "name": "A",
            "municipality": "Jena",
            "state": "Thüringen",
            "municipality_type": "Großstadt",
            "role": "R",
            "expertise": "E",
            "tags": [],
            "languages": ["de"],
        }
        (tmp_path / "members.json").write_text(json.dumps([member]))
        question = {"id": "q1", "asker_id": "m1", "title": "T", "body": "B", "tags": []}
        (tmp_path / "questions.json").write_text(json.dumps([question]))
        (tmp_path / "qrels.json").write_text(json.dumps({"q1": {"m9": 3}}))
        with pytest.raises(DatasetError, match="m9"):
            load_dataset(tmp_path)

    def test_missing_directory(self, tmp_path: Path) -> None:
        with pytest.raises(DatasetError, match="not a directory"):
            load_dataset(tmp_path / "nope")


@needs_dev_set
def test_dev_set_floor(embedder: Embedder) -> None:
    from lab.evaluation.offline import evaluate, prepare, service_ranker

    prepared = prepare(load_dataset(DEV_SET), embedder)
    report = evaluate(prepared, service_ranker())
    assert report.ndcg_at_5 >= 0.85, report.format()
    assert report.recall_at_10 >= 0.85, report.format()


@needs_dev_set
def test_dev_set_cross_validation_floor(embedder: Embedder) -> None:
    """The leave-one-question-out estimate of the grid (docs/matching.md), a single dense_top to
    keep the test short."""
    from lab.evaluation.offline import cross_validate, prepare

    prepared = prepare(load_dataset(DEV_SET), embedder)
    report = cross_validate(prepared, dense_tops=(2,))
    assert report.ndcg_at_5 >= 0.88, report.format()
    assert report.recall_at_10 >= 0.9, report.format()
    assert report.calibrated.dense > 0.0
    assert report.calibrated.bias < 0.0
    assert report.best_in_sample[0] >= report.ndcg_at_5 - 1e-9
