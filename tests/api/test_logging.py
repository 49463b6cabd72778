"""No personal data in logs: names, e-mail addresses, tokens and ids stay out of them."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.api.test_requests import EXPERTISE, QUESTION, invite
from tests.factories import ask, create_member


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
