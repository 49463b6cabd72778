"""Prometheus metrics as a scraper sees them: only with the token, labelled by route template
and never by anything personal, and one view over all workers of `peerconsult serve`."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.api import EXPERTISE, QUESTION, ask, assert_problem, create_member, invite
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.processes import free_port, serve, wait_until_healthy

METRICS_TOKEN = "metrics-token-0123456789"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest_asyncio.fixture
async def measured(
    db_pool: TransactionPool, fake_embedder: Embedder
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(metrics_token=METRICS_TOKEN)
    app = create_app(settings, embedder=fake_embedder, pool=db_pool.as_pool())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            yield client


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        found = re.fullmatch(r"([^{]+)(?:\{(.*)\})?", metric)
        if found is None or found.group(1) != name:
            continue
        given = ",".join(sorted((found.group(2) or "").split(","))) if found.group(2) else ""
        if given == wanted:
            return float(value)
    return 0.0


class TestScraping:
    async def test_without_the_variable_there_is_no_route(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/metrics", headers=SCRAPER)).status_code == 404

    async def test_only_the_token_may_scrape(self, measured: httpx.AsyncClient) -> None:
        assert_problem(await measured.get("/metrics"), 401)
        assert_problem(
            await measured.get("/metrics", headers={"Authorization": "Bearer falsch"}), 401
        )
        response = await measured.get("/metrics", headers=SCRAPER)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")

    async def test_what_happened_is_counted_and_nothing_personal_is_shown(
        self, measured: httpx.AsyncClient
    ) -> None:
        before = (await measured.get("/metrics", headers=SCRAPER)).text
        asker = await create_member(
            measured, name="Paula Privat", email="paula.privat@example.org", municipality="A"
        )
        peer = await create_member(measured, municipality="B", expertise=EXPERTISE)
        question = await ask(measured, asker, **QUESTION)
        invited = await invite(measured, asker, question, peer.id)
        request_id = invited.json()[0]["id"]
        await measured.post(f"/v1/requests/{request_id}/accept", headers=peer.headers)
        await measured.get("/v1/members/me", headers={"Authorization": "Bearer pc_falsch"})
        after = (await measured.get("/metrics", headers=SCRAPER)).text

        def grew(name: str, **labels: str) -> float:
            return sample(after, name, **labels) - sample(before, name, **labels)

        assert grew("peerconsult_questions_asked_total") == 1
        assert grew("peerconsult_invitations_total", outcome="sent") == 1
        assert grew("peerconsult_invitations_total", outcome="accepted") == 1
        assert grew("peerconsult_failed_sign_ins_total", interface="api") == 1
        route = {"method": "POST", "route": "/v1/questions", "status": "2xx"}
        assert grew("peerconsult_http_request_duration_seconds_count", **route) == 1
        assert grew("peerconsult_question_stage_duration_seconds_count", stage="embed") >= 1
        assert 'peerconsult_outbox_messages{state="waiting"}' in after
        for personal in (
            "Paula",
            "paula.privat",
            asker.id,
            peer.id,
            question["id"],
            request_id,
            asker.token,
        ):
            assert personal not in after


def test_one_view_over_all_workers(own_database_url: str) -> None:
    """Two worker processes, each answering some of the requests: a scrape, whichever worker
    answers it, counts all of them."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": own_database_url,
        "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        "PEERCONSULT_METRICS_TOKEN": METRICS_TOKEN,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = serve(port, env, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base)
        # Fresh connections, so the kernel spreads them over both workers.
        for _ in range(30):
            with httpx.Client(base_url=base) as fresh:
                assert fresh.get("/v1/tags").status_code == 401
        counted = set()
        for _ in range(6):
            with httpx.Client(base_url=base) as fresh:
                text = fresh.get("/metrics", headers=SCRAPER).text
            counted.add(
                sample(
                    text,
                    "peerconsult_http_request_duration_seconds_count",
                    method="GET",
                    route="/v1/tags",
                    status="4xx",
                )
            )
        assert counted == {30.0}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
