"""``peerconsult evaluate`` (api/cli/quality.py): the development set's quality through the API,
and inside a synthetic network through the bounded channels."""

from __future__ import annotations

from lab.evaluation.dataset import load_dataset
from lab.evaluation.over_http import evaluate_over_http
from service.embedding import Embedder
from service.questions import service as questions_service
from tests.helpers.data import DEV_SET, needs_dev_set


@needs_dev_set
class TestEvaluate:
    async def test_dev_set_quality_floor_through_the_api(
        self, server_url: str, embedder: Embedder
    ) -> None:
        report = await evaluate_over_http(load_dataset(DEV_SET), embedder, database_url=server_url)
        assert len(report.results) == 25
        assert report.ndcg_at_5 >= 0.80
        assert report.recall_at_10 >= 0.80

    async def test_inside_a_synthetic_network_through_the_bounded_channels(
        self, server_url: str, embedder: Embedder
    ) -> None:
        # 400 members: more than are ranked in full, so the candidate channels answer.
        within = questions_service.RETRIEVAL.bounded_above + 100
        report = await evaluate_over_http(
            load_dataset(DEV_SET), embedder, database_url=server_url, within=within
        )
        assert report.settings["within synthetic members"] == within
        assert len(report.results) == 25
        ranked = [member for result in report.results for member in result.ranked]
        # Synthetic colleagues compete (shown by their import ids), the set's still lead.
        assert any(member.startswith("bench-") for member in ranked)
        assert report.mrr >= 0.75
        assert report.recall_at_10 >= 0.65
