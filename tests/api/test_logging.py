"""No personal data in logs: names, e-mail addresses, tokens and ids stay out of them."""

from __future__ import annotations

import logging

import httpx
import pytest

from service import timing
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite


class TestLogs:
    async def test_a_whole_workflow_logs_no_personal_data(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        asker = await create_member(
            client, name="Gundula Geheim", email="gundula@example.org", municipality="Astadt"
        )
        peer = await create_member(
            client,
            name="Vertraulich Volker",
            email="volker@example.org",
            municipality="Bstadt",
            expertise=EXPERTISE,
        )
        question = await ask(client, asker, **QUESTION)
        response = await invite(client, asker, question, peer.id)
        request_id = response.json()[0]["id"]
        await client.post(f"/v1/requests/{request_id}/accept", headers=peer.headers)
        await client.get(f"/v1/members/{peer.id}/export", headers=peer.headers)
        await client.get("/v1/members/me", headers={"Authorization": "Bearer pc_wrong"})
        # Everything the service logged (httpx and httpcore are this test's own client).
        logged = "\n".join(
            record.getMessage()
            for record in caplog.records
            if not record.name.startswith(("httpx", "httpcore"))
        )
        assert "GET /v1/members/{member_id}/export 200" in logged
        for secret in (
            "Gundula",
            "Volker",
            "gundula@example.org",
            "volker@example.org",
            asker.token,
            peer.token,
            "pc_wrong",
            asker.id,
            peer.id,
            request_id,
        ):
            assert secret not in logged


class TestServerTiming:
    async def test_a_question_says_where_its_time_went(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="peerconsult.access")
        asker = await create_member(client, municipality="Astadt")
        await create_member(client, municipality="Bstadt", expertise=EXPERTISE)
        response = await client.post("/v1/questions", json=QUESTION, headers=asker.headers)
        assert response.status_code == 201
        stages = timing.parse_header(response.headers["Server-Timing"])
        assert set(stages) == {
            "auth", "context", "embed", "outcomes", "candidates", "rank", "store", "related",
            "commit",
        }  # fmt: skip
        assert all(milliseconds >= 0 for milliseconds in stages.values())
        logged = [r.getMessage() for r in caplog.records if r.name == "peerconsult.access"]
        assert any(
            line.startswith("POST /v1/questions 201") and "candidates" in line for line in logged
        )

    async def test_a_request_without_stages_has_no_header(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert "Server-Timing" not in response.headers

    def test_the_header_reads_back(self) -> None:
        stages = timing.Stages()
        stages.add("embed", 2.5)
        stages.add("rank", 1.25)
        stages.add("rank", 1.0)
        assert timing.parse_header(stages.header()) == {"embed": 2.5, "rank": 2.25}
        header = 'db;desc="x";dur=1.5, cache, bad;dur=x, dot;dur=.'
        assert timing.parse_header(header) == {"db": 1.5}
