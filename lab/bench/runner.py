"""`peerconsult bench`: the service against the simplest thing a user could script instead.

For each network size, in one run on one machine (ratios, because absolute times are noise on
shared machines):

* import throughput through the import path vs the raw embedder's documents per second (the
  same batches, a sample spread over the network, half embedded before the import, half after),
  and the part of the import that built the vector index at its end;
* p50/p99 latency of ``POST /v1/questions`` over HTTP (one client, a real server process);
* the naive baseline in-process: embed the question, brute-force cosine over every passage
  vector in numpy, best passage per member, top k;
* the query embedding alone (the floor no design can beat);
* throughput with 1 and with 16 concurrent clients (in alternating rounds; the gain is the
  median of the rounds' ratios);
* for each network larger than 10,000 members, its p50 against the 10,000-member network's,
  both served at once and asked in alternating rounds at the end of the run (the sizes are
  built tens of minutes apart, and the machine's speed drifts in between);
* recall@50 of the vector index against exact search;
* the server's memory (RSS of its processes);
* the coordinator's insights over as many questions as members (five suggestions each, a
  quarter of them with an invitation), against plain counts of the same tables;
* the weekly digests with 1 % of the members asking an open question that week, against every
  member's digest computed one at a time (``lab/bench/digests.py``; ``--digests`` measures
  only these, on networks of plain member rows);
* the p50 of ``POST /v1/questions`` with half as many shared outcomes as members, against the
  same questions asked just before they were added (``lab/bench/outcomes.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import queue
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import httpx
import numpy as np
import psutil
from rich.table import Table

from lab.bench import digests, index, outcomes, synthetic
from service import db, identity, timing
from service.embedding import Embedder
from service.insights import service as insights_service
from service.matching import fit
from service.matching.passages import split_passages
from service.members import importer
from service.questions import retrieval
from service.questions import service as questions_service

# Passages embedded to measure the raw embedder: batches spread over the network, half of them
# embedded before the import and half after, so that a drift of the machine's speed during a
# long import weighs on both sides of the ratio.
RAW_SAMPLE = 6000
# Throughput is measured in rounds of one client and of sixteen, alternating which goes first;
# the gain reported is the median of the rounds' ratios (each round's two measurements lie
# seconds apart, so a slower minute of the shared machine weighs on both).
THROUGHPUT_ROUNDS = 3
RECALL_QUERIES = 50
RECALL_DEPTH = 50
# Larger networks' p50 is compared with this one's (the target: at most 1.3 times), in rounds
# of both, alternating which is asked first; the ratio reported is the median of the rounds'.
FLATNESS_REFERENCE = 10_000
FLATNESS_ROUNDS = 5


@dataclass
class SizeResult:
    members: int
    passages: int
    import_passages_per_s: float
    raw_passages_per_s: float
    import_ratio: float
    index_build_s: float
    http_p50_ms: float
    http_p99_ms: float
    naive_p50_ms: float
    embed_p50_ms: float
    p50_vs_naive: float
    throughput_1: float
    throughput_16: float
    concurrency_gain: float
    index_recall_at_50: float
    server_rss_mb: float
    # The coordinator's insights over as many questions as members, and plain counts of the
    # same tables (``_insights``), in seconds.
    insights_s: float = 0.0
    insights_vs_counts: float = 0.0
    # The weekly digests (``lab/bench/digests.py``): open questions, digests queued, seconds
    # to compute and queue them, and against every member's digest one at a time.
    digests_open_questions: int = 0
    digests_queued: int = 0
    digests_s: float = 0.0
    digests_ms_each: float = 0.0
    digests_vs_naive: float = 0.0
    # ``POST /v1/questions`` p50 with half as many shared outcomes as members, and just before
    # they were added (``lab/bench/outcomes.py``), and their ratio.
    outcomes: int = 0
    outcomes_fill_s: float = 0.0
    outcomes_p50_ms: float = 0.0
    outcomes_without_p50_ms: float = 0.0
    outcomes_vs_without: float = 0.0
    # The median of each stage with the shared outcomes (``outcomes_stage_<name>_p50_ms``).
    outcome_stages_p50_ms: dict[str, float] = field(default_factory=dict)
    # The median of each stage the server reported (Server-Timing) for the latency questions.
    stages_p50_ms: dict[str, float] = field(default_factory=dict)
    # A network larger than the reference (FLATNESS_REFERENCE members), when that was measured
    # in the same run: the median of the rounds' p50 ratios against it (``_flatness``), and the
    # two sides' median p50s in those rounds.
    flatness_reference_members: int | None = None
    flatness: float | None = None
    flatness_p50_ms: float | None = None
    flatness_reference_p50_ms: float | None = None


def percentile(values: Sequence[float], q: float) -> float:
    result: float = np.percentile(np.asarray(values, dtype=np.float64), q).item()
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``peerconsult serve`` as a separate process on the benchmark database."""

    def __init__(self, database_url: str, model: str, workers: str) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PEERCONSULT_ADMIN_TOKEN": self.admin_token,
            "PEERCONSULT_EMBEDDING_MODEL": model,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def wait_until_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become healthy")

    def rss_mb(self) -> float:
        process = psutil.Process(self.process.pid)
        processes = [process, *process.children(recursive=True)]
        total: int = sum(p.memory_info().rss for p in processes)
        return total / 2**20

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _raw_sample(batches: Sequence[Sequence[str]], passages: int) -> list[Sequence[str]]:
    """Evenly spaced batches of the import, about ``passages`` passages in all (every batch of
    a small network)."""
    total = sum(len(batch) for batch in batches)
    if total <= passages:
        return list(batches)
    count = max(2, round(len(batches) * passages / total))
    picked = np.unique(np.linspace(0, len(batches) - 1, count).round().astype(int))
    return [batches[index] for index in picked]


def _embedding_seconds(embedder: Embedder, batches: Sequence[Sequence[str]]) -> float:
    """Seconds the embedder alone takes for ``batches``, one call a batch, as the importer
    embeds them (one batch of members' passages per call)."""
    started = time.perf_counter()
    for batch in batches:
        embedder.embed_documents(batch)
    return time.perf_counter() - started


def _naive(
    embedder: Embedder, matrix: np.ndarray, starts: np.ndarray, text: str, k: int = 5
) -> np.ndarray:
    """What a user would script: embed, cosine over every passage, best passage per member."""
    query = embedder.embed_queries([text])[0]
    per_member = np.maximum.reduceat(matrix @ query, starts)
    top = np.argpartition(-per_member, min(k, len(per_member) - 1))[:k]
    return top[np.argsort(-per_member[top])]


async def _naive_and_floor(
    pool: asyncpg.Pool, embedder: Embedder, payloads: Sequence[dict[str, object]]
) -> tuple[list[float], list[float]]:
    """Milliseconds per question of the naive baseline over every passage vector, and of the
    question's embedding alone. The vectors (1.8 GB at 100,000 members) are loaded here and
    let go on return, before the server is measured beside this process."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT member_id, embedding FROM passage WHERE model = $1 ORDER BY member_id",
            embedder.name,
        )
    matrix = np.stack([_as_array(row["embedding"]) for row in rows])
    member_ids = [row["member_id"] for row in rows]
    del rows
    starts = np.array([i for i, m in enumerate(member_ids) if i == 0 or m != member_ids[i - 1]])
    naive, embed = [], []
    for payload in payloads:
        text = f"{payload['title']}\n{payload['body']}"
        started = time.perf_counter()
        _naive(embedder, matrix, starts, text)
        naive.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        embedder.embed_queries([text])
        embed.append((time.perf_counter() - started) * 1000)
    return naive, embed


def _as_array(value: Any) -> np.ndarray:
    """pgvector's codec returns a ``Vector`` for an untyped column, an ndarray for a typed one."""
    to_numpy = getattr(value, "to_numpy", None)
    return np.asarray(to_numpy() if to_numpy else value, dtype=np.float32)


def _ask_payloads(count: int) -> list[dict[str, object]]:
    return [
        {"title": q.title, "body": q.body, "tags": list(q.tags), "limit": 5}
        for q in synthetic.questions(count)
    ]


class _Asker:
    """One client: a keep-alive HTTP/1.1 connection that posts questions as one member.

    The standard library's ``http.client``, not httpx: the client runs on the same two cores as
    the server, and its own time is part of every latency it measures. Interleaved on the
    10,000-member network (200 questions each), httpx's async client measured a p50
    2.4 ms higher than this one for the same server (21.5 against 19.0 ms)."""

    def __init__(self, server: Server, token: str) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def ask(self, payload: dict[str, object]) -> dict[str, float]:
        """Ask one question; the server's stages for it (its ``Server-Timing`` header)."""
        self._connection.request(
            "POST", "/v1/questions", body=json.dumps(payload).encode(), headers=self._headers
        )
        response = self._connection.getresponse()
        body = response.read()
        if response.status != 201:
            raise RuntimeError(f"POST /v1/questions answered {response.status}: {body[:300]!r}")
        return timing.parse_header(response.getheader("Server-Timing") or "")

    def close(self) -> None:
        self._connection.close()


def _latencies(
    server: Server, token: str, payloads: Sequence[dict[str, object]]
) -> tuple[list[float], dict[str, float]]:
    """Milliseconds per question, asked one after another by one client, after a warm-up of
    20 questions (caches, plans, connections); and the median of each stage the server reported
    for them (where a question's time went, and which part grew with the network)."""
    asker = _Asker(server, token)
    try:
        for payload in payloads[:20]:
            asker.ask(payload)
        latencies = []
        stages: dict[str, list[float]] = {}
        for payload in payloads:
            started = time.perf_counter()
            reported = asker.ask(payload)
            latencies.append((time.perf_counter() - started) * 1000)
            for name, milliseconds in reported.items():
                stages.setdefault(name, []).append(milliseconds)
        return latencies, {name: statistics.median(values) for name, values in stages.items()}
    finally:
        asker.close()


def _throughput(server: Server, token: str, clients: int, total: int) -> float:
    """Questions per second answered for ``clients`` clients, each in a thread of its own
    with its own connection, asking ``total`` questions between them."""
    pending: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()
    for payload in _ask_payloads(total):
        pending.put(payload)
    askers = [_Asker(server, token) for _ in range(clients)]
    failures: list[BaseException] = []

    def client_loop(asker: _Asker) -> None:
        try:
            while True:
                try:
                    payload = pending.get_nowait()
                except queue.Empty:
                    return
                asker.ask(payload)
        except BaseException as error:  # reported after every client has stopped
            failures.append(error)

    threads = [threading.Thread(target=client_loop, args=(asker,)) for asker in askers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for asker in askers:
        asker.close()
    if failures:
        raise failures[0]
    return total / elapsed


def _concurrency(
    server: Server, token: str, requests: int, rounds: int = THROUGHPUT_ROUNDS
) -> tuple[float, float, float]:
    """Throughput with 1 and with 16 clients (medians over ``rounds``) and the median of the
    rounds' ratios of the two; rounds alternate which is measured first."""
    ones, sixteens, gains = [], [], []
    for round_ in range(rounds):
        order = (1, 16) if round_ % 2 == 0 else (16, 1)
        measured = {clients: _throughput(server, token, clients, requests) for clients in order}
        ones.append(measured[1])
        sixteens.append(measured[16])
        gains.append(measured[16] / measured[1])
    return statistics.median(ones), statistics.median(sixteens), statistics.median(gains)


async def _index_recall(pool: asyncpg.Pool, embedder: Embedder, texts: Sequence[str]) -> float:
    """recall@50 of the passage retrieval the service runs (HNSW, at the search breadth the
    service uses for a network of this size) against exact search, in PostgreSQL. Tie-aware:
    an approximate result counts when it is as near as the 50th exact one, because equal
    passages (frequent in a synthetic network) tie at the same distance and either of them is
    a right answer."""
    recalls = []
    async with pool.acquire() as conn:
        member_id = await conn.fetchval("SELECT id FROM member LIMIT 1")
        for text in texts:
            vector = embedder.embed_queries([text])[0]
            async with conn.transaction():
                # The search breadth a question in this network is answered with.
                await retrieval.asker_context(
                    conn,
                    member_id,
                    text="",
                    tag_keys=(),
                    retrieval=questions_service.RETRIEVAL,
                    breadth=questions_service.SEARCH_BREADTH,
                )
                # Both searches are the same prepared statement. Planned once for all
                # parameters (as the service's connections plan every statement), the plan made
                # under whichever of the two settings came first would serve both: exact search
                # would then run the index scan (or the reverse) and the recall read 1.0. Each
                # is planned anew.
                await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                approximate = await index.nearest_passages(
                    conn, model=embedder.name, query_vector=vector, limit=RECALL_DEPTH
                )
                await conn.execute("SET LOCAL enable_indexscan = off")
                exact = await index.nearest_passages(
                    conn, model=embedder.name, query_vector=vector, limit=RECALL_DEPTH
                )
            if not exact:
                continue
            threshold = exact[-1][1] + 1e-6
            found = sum(1 for _, distance in approximate if distance <= threshold)
            recalls.append(min(found, len(exact)) / len(exact))
    return statistics.fmean(recalls) if recalls else 1.0


@dataclass(frozen=True)
class _Network:
    """A measured network, kept until the end of the run for the flatness rounds."""

    members: int
    url: str
    token: str  # the benchmark's asker


def _flatness(
    network: _Network,
    reference: _Network,
    *,
    model: str,
    workers: str,
    payloads: Sequence[dict[str, object]],
    rounds: int = FLATNESS_ROUNDS,
) -> tuple[float, float, float]:
    """The median over ``rounds`` of the ratio of ``network``'s p50 to ``reference``'s, both
    served at once and asked one after the other in each round (alternating which first); and
    the median p50 of each side."""
    servers = {side.members: Server(side.url, model, workers) for side in (network, reference)}
    try:
        for server in servers.values():
            server.wait_until_healthy()
        ratios, own, theirs = [], [], []
        for round_ in range(rounds):
            order = (network, reference) if round_ % 2 == 0 else (reference, network)
            p50 = {
                side.members: percentile(
                    _latencies(servers[side.members], side.token, payloads)[0], 50
                )
                for side in order
            }
            own.append(p50[network.members])
            theirs.append(p50[reference.members])
            ratios.append(p50[network.members] / p50[reference.members])
        return statistics.median(ratios), statistics.median(own), statistics.median(theirs)
    finally:
        for server in servers.values():
            server.stop()


async def run(
    sizes: Sequence[int],
    *,
    embedder: Embedder,
    model: str,
    database_url: str | None,
    requests: int,
    workers: str,
    say: Callable[[str], None],
    measured: Callable[[SizeResult], None],
    reference: int = FLATNESS_REFERENCE,
    flatness_rounds: int = FLATNESS_ROUNDS,
) -> list[SizeResult]:
    """Measure each size (``measured`` is told each result as soon as it is complete, so a
    long run's earlier sizes are not lost), keeping each network's database; then compare the
    p50 of the networks larger than ``reference`` members with its, if it was measured."""
    results: list[SizeResult] = []
    networks: dict[int, _Network] = {}
    async with contextlib.AsyncExitStack() as databases:
        for members in sizes:
            url = await databases.enter_async_context(db.scratch_database(database_url))
            result, token = await run_size(
                members,
                url=url,
                embedder=embedder,
                model=model,
                requests=requests,
                workers=workers,
                say=say,
            )
            networks[members] = _Network(members, url, token)
            results.append(result)
            measured(result)
        compared = networks.get(reference)
        if compared is None:
            return results
        payloads = _ask_payloads(requests)
        for result in results:
            if result.members <= reference:
                continue
            say(f"{result.members} members: p50 against {reference} in rounds")
            ratio, own, theirs = await asyncio.to_thread(
                _flatness,
                networks[result.members],
                compared,
                model=model,
                workers=workers,
                payloads=payloads,
                rounds=flatness_rounds,
            )
            result.flatness_reference_members = reference
            result.flatness = ratio
            result.flatness_p50_ms = own
            result.flatness_reference_p50_ms = theirs
    return results


async def run_size(
    members: int,
    *,
    url: str,
    embedder: Embedder,
    model: str,
    requests: int,
    workers: str,
    say: Callable[[str], None],
) -> tuple[SizeResult, str]:
    """Build a network of ``members`` in the empty database at ``url``, load it, start a
    server on it and measure; and the token of the member the benchmark asks as."""
    records = synthetic.network(members)
    validated = importer.validate_records(records)
    await db.migrate_async(url)
    pool = await db.create_pool(url, max_size=4)
    try:
        sample = _raw_sample(
            [
                [text for row in chunk for text in split_passages(row.member.expertise)]
                for chunk in (
                    validated[start : start + importer.DEFAULT_BATCH]
                    for start in range(0, len(validated), importer.DEFAULT_BATCH)
                )
            ],
            RAW_SAMPLE,
        )
        say(f"{members} members: the raw embedder, then importing")
        await asyncio.to_thread(_embedding_seconds, embedder, sample[:1])  # warm-up
        raw_seconds = await asyncio.to_thread(_embedding_seconds, embedder, sample[0::2])
        started = time.perf_counter()
        report = await importer.import_members(pool, embedder, validated)
        import_rate = report.passages / (time.perf_counter() - started)
        raw_seconds += await asyncio.to_thread(_embedding_seconds, embedder, sample[1::2])
        raw_rate = sum(len(batch) for batch in sample) / raw_seconds
        payloads = _ask_payloads(requests)
        say(f"{members} members: naive baseline and embedding floor")
        naive, embed = await _naive_and_floor(pool, embedder, payloads)
        say(f"{members} members: index recall")
        recall = await _index_recall(
            pool,
            embedder,
            [f"{p['title']}\n{p['body']}" for p in payloads[:RECALL_QUERIES]],
        )
    finally:
        await pool.close()

    say(f"{members} members: HTTP latency and throughput")
    server = Server(url, model, workers)
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            created = await client.post(
                "/v1/members",
                headers={"Authorization": f"Bearer {server.admin_token}"},
                json={
                    "name": "Benchmark",
                    "email": "asker@bench.example.org",
                    "municipality": {"name": "Fragestadt", "state": "Hessen"},
                    "expertise": "Ich frage für den Benchmark.",
                },
            )
            created.raise_for_status()
            token = created.json()["token"]
        latencies, stages = await asyncio.to_thread(_latencies, server, token, payloads)
        one, sixteen, gain = await asyncio.to_thread(_concurrency, server, token, requests)
        rss = server.rss_mb()
    finally:
        server.stop()

    say(f"{members} members: insights over {members} questions")
    pool = await db.create_pool(url, max_size=2)
    try:
        insights_s, counts_s = await _insights(pool, embedder, members)
        say(f"{members} members: the weekly digests")
        async with pool.acquire() as conn:
            digest_times = await digests.measure(conn, members)
        say(f"{members} members: questions without shared outcomes, then with")
        without_p50, _ = await asyncio.to_thread(_p50, url, model, workers, token, payloads)
        async with pool.acquire() as conn:
            outcome_count, fill_s = await outcomes.fill(conn, members, model=model)
        with_p50, with_stages = await asyncio.to_thread(_p50, url, model, workers, token, payloads)
    finally:
        await pool.close()

    http_p50 = percentile(latencies, 50)
    naive_p50 = percentile(naive, 50)
    result = SizeResult(
        members=members,
        passages=report.passages,
        import_passages_per_s=import_rate,
        raw_passages_per_s=raw_rate,
        import_ratio=import_rate / raw_rate,
        index_build_s=report.index_build_s,
        http_p50_ms=http_p50,
        http_p99_ms=percentile(latencies, 99),
        naive_p50_ms=naive_p50,
        embed_p50_ms=percentile(embed, 50),
        p50_vs_naive=http_p50 / naive_p50,
        throughput_1=one,
        throughput_16=sixteen,
        concurrency_gain=gain,
        index_recall_at_50=recall,
        server_rss_mb=rss,
        stages_p50_ms=stages,
        insights_s=insights_s,
        insights_vs_counts=insights_s / counts_s,
        digests_open_questions=digest_times.open_questions,
        digests_queued=digest_times.queued,
        digests_s=digest_times.seconds,
        digests_ms_each=digest_times.ms_each,
        digests_vs_naive=digest_times.vs_naive,
        outcomes=outcome_count,
        outcomes_fill_s=fill_s,
        outcomes_p50_ms=with_p50,
        outcomes_without_p50_ms=without_p50,
        outcomes_vs_without=with_p50 / without_p50,
        outcome_stages_p50_ms=with_stages,
    )
    return result, token


def _p50(
    url: str, model: str, workers: str, token: str, payloads: Sequence[dict[str, object]]
) -> tuple[float, dict[str, float]]:
    """The p50 of ``POST /v1/questions`` (``_latencies``) on a server started for it, and the
    median of each stage."""
    server = Server(url, model, workers)
    try:
        server.wait_until_healthy()
        latencies, stages = _latencies(server, token, payloads)
    finally:
        server.stop()
    return percentile(latencies, 50), stages


async def run_digests(
    sizes: Sequence[int], *, database_url: str | None, say: Callable[[str], None]
) -> list[dict[str, float | int]]:
    """Only the weekly digests, on networks of plain member rows (no model, no import)."""
    results: list[dict[str, float | int]] = []
    for members in sizes:
        async with db.scratch_database(database_url) as url:
            await db.migrate_async(url)
            say(f"{members} members: the weekly digests")
            conn = await db.connect(url)
            try:
                await digests.plain_network(conn, members)
                found = await digests.measure(conn, members)
            finally:
                await conn.close()
        results.append(
            {
                "members": members,
                "digests_open_questions": found.open_questions,
                "digests_queued": found.queued,
                "digests_s": round(found.seconds, 4),
                "digests_ms_each": round(found.ms_each, 4),
                "digests_naive_s": round(found.naive_seconds, 4),
                "digests_vs_naive": round(found.vs_naive, 4),
            }
        )
    return results


# Synthetic questions for the insights: as many as members, on a few topics, over a year, every
# tenth a gap when it was asked (its coverage below the threshold $2: the insights rank the newest
# of them again), each with five suggestions of random relevance and every fourth with an
# invitation in a random state.
_SYNTHETIC_QUESTIONS = """
WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM member),
     size AS (SELECT count(*) AS members FROM member)
INSERT INTO question (asker_id, title, body, tags, created_at, coverage)
SELECT numbered.id, 'Frage ' || i,
       'Wie gelingt ' || (ARRAY['Jugendbeteiligung', 'ein Bürgerrat', 'Glasfaserausbau',
                                'ein Bürgerhaushalt', 'die Vorhabenliste'])[1 + i % 5]
           || ' in Ort ' || i || '?',
       ARRAY[(ARRAY['Jugend', 'Bürgerrat', 'Breitband', 'Haushalt', 'Vorhabenliste'])[1 + i % 5]],
       now() - (i % 365) * interval '1 day',
       CASE WHEN i % 10 = 0 THEN $2 * random() ELSE $2 + (1 - $2) * random() END
FROM generate_series(0, $1 - 1) AS i, size
JOIN numbered ON true
WHERE numbered.n = i % size.members
"""
_SYNTHETIC_SUGGESTIONS = """
WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM member),
     size AS (SELECT count(*) AS members FROM member),
     asked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM question)
INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model)
SELECT asked.id, numbered.id, r, random(),
       jsonb_build_object('components', jsonb_build_object('relevance', random())), 'bench'
FROM asked, size, generate_series(1, 5) AS r
JOIN numbered ON true
WHERE numbered.n = (asked.n * 7 + r * 13) % size.members
ON CONFLICT DO NOTHING
"""
_SYNTHETIC_REQUESTS = """
INSERT INTO consultation_request (question_id, asker_id, peer_id, status, created_at,
                                  expires_at, responded_at)
SELECT q.id, q.asker_id, s.member_id,
       (ARRAY['pending', 'accepted', 'declined', 'withdrawn', 'expired'])[1 + (random() * 4)::int],
       q.created_at, q.created_at + interval '14 days', q.created_at + interval '1 day'
FROM question q JOIN suggestion s ON s.question_id = q.id AND s.rank = 1
WHERE s.member_id <> q.asker_id AND random() < 0.25
ON CONFLICT DO NOTHING
"""
_COUNTS = """
SELECT (SELECT count(*) FROM question), (SELECT count(*) FROM suggestion),
       (SELECT count(*) FROM consultation_request), (SELECT count(*) FROM member),
       (SELECT count(*) FROM member_tag)
"""


async def _insights(pool: asyncpg.Pool, embedder: Embedder, members: int) -> tuple[float, float]:
    """Seconds for the coordinator's insights over ``members`` synthetic questions (median of
    three), and for plain counts of the same tables (median of three)."""
    async with pool.acquire() as conn:
        await conn.execute(_SYNTHETIC_QUESTIONS, members, fit.FIT_MODEL.covered_from)
        await conn.execute(_SYNTHETIC_SUGGESTIONS)
        await conn.execute(_SYNTHETIC_REQUESTS)
        await conn.execute("ANALYZE")
        coordinator = identity.CoordinatorPrincipal()
        insights, counts = [], []
        for _ in range(3):
            started = time.perf_counter()
            await insights_service.insights(conn, embedder, coordinator)
            insights.append(time.perf_counter() - started)
            started = time.perf_counter()
            await conn.fetchrow(_COUNTS)
            counts.append(time.perf_counter() - started)
    return statistics.median(insights), statistics.median(counts)


def as_dict(result: SizeResult) -> dict[str, float | int]:
    """The result as flat fields; each server stage as ``stage_<name>_p50_ms``."""
    fields = {key: value for key, value in asdict(result).items() if value is not None}
    stages = fields.pop("stages_p50_ms")
    fields.update({f"stage_{name}_p50_ms": value for name, value in stages.items()})
    with_outcomes = fields.pop("outcome_stages_p50_ms", {})
    fields.update({f"outcomes_stage_{name}_p50_ms": value for name, value in with_outcomes.items()})
    return {key: (round(value, 4) if isinstance(value, float) else value)
            for key, value in fields.items()}  # fmt: skip


def table(results: Sequence[dict[str, float | int]]) -> Table:
    """The results as the terminal shows them: a column per size, a row per metric."""
    shown = Table(title="peerconsult bench (ratios are measured in the same run)")
    shown.add_column("metric")
    for result in results:
        shown.add_column(f"{result['members']:,} members", justify="right")
    # Every metric any size reported, in order (a stage may be missing from a size).
    for key in dict.fromkeys(key for result in results for key in result):
        if key != "members":
            shown.add_row(key, *("" if key not in result
                                 else f"{result[key]:,.3f}" if isinstance(result[key], float)
                                 else f"{result[key]:,}" for result in results))  # fmt: skip
    return shown
