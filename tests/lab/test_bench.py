"""The benchmark's own measuring parts, against a stand-in server: every question asked once,
a failing answer stops the run, samples spread over the whole network."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from lab.bench import digests, runner
from service.embedding import Embedder


class _Recorder(BaseHTTPRequestHandler):
    """Answers ``POST /v1/questions`` with 201, or with the status the server is told to give,
    and records each question's title."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the benchmark's clients expect

    def do_POST(self) -> None:  # the standard library's name for the handler
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = cast(_StandIn, self.server)
        with server.lock:
            server.titles.append(body["title"])
            server.authorized.append(self.headers["Authorization"])
        payload = b'{"suggestions": []}'
        self.send_response(server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Server-Timing", "candidates;dur=3.5, rank;dur=1.25")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what the server recorded."""


class _StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.lock = threading.Lock()
        self.titles: list[str] = []
        self.authorized: list[str] = []
        self.status = 201
        self.port = self.server_address[1]


@pytest.fixture
def stand_in() -> Iterator[_StandIn]:
    server = _StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def as_server(stand_in: _StandIn) -> runner.Server:
    return cast(runner.Server, stand_in)


def test_sixteen_clients_ask_every_question_once(stand_in: _StandIn) -> None:
    rate = runner._throughput(as_server(stand_in), "token", 16, 60)
    assert rate > 0
    expected = [str(payload["title"]) for payload in runner._ask_payloads(60)]
    assert sorted(stand_in.titles) == sorted(expected)
    assert set(stand_in.authorized) == {"Bearer token"}


def test_latencies_are_measured_after_a_warm_up(stand_in: _StandIn) -> None:
    payloads = runner._ask_payloads(25)
    latencies, stages = runner._latencies(as_server(stand_in), "token", payloads)
    assert len(latencies) == 25
    assert all(latency > 0 for latency in latencies)
    assert len(stand_in.titles) == 20 + 25
    # The stand-in reports its stages as the service does, the same for every question.
    assert stages == {"candidates": 3.5, "rank": 1.25}


def test_a_failing_answer_stops_the_measurement(stand_in: _StandIn) -> None:
    stand_in.status = 500
    with pytest.raises(RuntimeError, match="500"):
        runner._throughput(as_server(stand_in), "token", 4, 20)


def test_concurrency_is_measured_in_rounds(stand_in: _StandIn) -> None:
    one, sixteen, gain = runner._concurrency(as_server(stand_in), "token", 20, rounds=3)
    assert one > 0 and sixteen > 0 and gain > 0
    assert len(stand_in.titles) == 3 * 2 * 20


def test_the_raw_sample_spreads_over_the_network() -> None:
    batches = [[f"batch {index} passage {n}" for n in range(10)] for index in range(100)]
    sample = runner._raw_sample(batches, 200)
    assert sum(len(batch) for batch in sample) == 200
    assert sample[0] is batches[0] and sample[-1] is batches[-1]
    assert runner._raw_sample(batches[:5], 200) == batches[:5]


async def test_a_run_measures_each_size_and_compares_the_larger_with_the_reference(
    server_url: str, embedder: Embedder
) -> None:
    """The whole benchmark on two small networks, served by real server processes: every
    size is reported as soon as it is measured, and the larger one's p50 is compared with the
    reference's afterwards, both served at once."""
    said: list[str] = []
    told: list[runner.SizeResult] = []
    results = await runner.run(
        [30, 60],
        embedder=embedder,
        model=embedder.name,
        database_url=server_url,
        requests=20,
        workers="1",
        say=said.append,
        measured=told.append,
        reference=30,
        flatness_rounds=2,
    )
    assert [result.members for result in results] == [30, 60]
    assert [result.members for result in told] == [30, 60]
    small, large = results
    for result in results:
        assert result.passages > 30 and result.http_p50_ms > 0 and result.naive_p50_ms > 0
        assert {"auth", "context", "embed", "candidates", "rank", "store"} <= set(
            result.stages_p50_ms
        )
        assert 0 < result.index_recall_at_50 <= 1
        assert result.insights_s > 0 and result.insights_vs_counts > 0
        # 1 % asked an open question (at least one), shown to colleagues who get a digest.
        assert result.digests_open_questions == 1
        assert result.digests_queued > 0 and result.digests_vs_naive > 0
        # Half as many shared outcomes as members, and the p50 with them against without.
        assert result.outcomes == result.members // 2
        assert result.outcomes_p50_ms > 0 and result.outcomes_vs_without > 0
    assert small.flatness is None
    assert large.flatness_reference_members == 30
    assert large.flatness is not None and large.flatness > 0
    assert large.flatness_p50_ms is not None and large.flatness_reference_p50_ms is not None
    assert "60 members: p50 against 30 in rounds" in said
    reported = runner.as_dict(large)
    assert reported["flatness"] == round(large.flatness, 4)
    assert reported["stage_candidates_p50_ms"] == round(large.stages_p50_ms["candidates"], 4)
    assert "flatness" not in runner.as_dict(small)


async def test_the_digests_alone_on_plain_networks(server_url: str) -> None:
    """``--digests``: each size's digests, one per member shown an open question this week,
    and the per-member baseline."""
    said: list[str] = []
    results = await runner.run_digests([400, 800], database_url=server_url, say=said.append)
    assert [result["members"] for result in results] == [400, 800]
    for result in results:
        assert result["digests_open_questions"] == int(result["members"]) // 100
        # Each open question reaches AUDIENCE colleagues (some of them twice over).
        assert 0 < result["digests_queued"] <= result["digests_open_questions"] * digests.AUDIENCE
        assert result["digests_s"] > 0 and result["digests_naive_s"] > 0
    assert said == ["400 members: the weekly digests", "800 members: the weekly digests"]
