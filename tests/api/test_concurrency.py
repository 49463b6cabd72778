"""Concurrent clients: no 5xx, no lost write, no request waiting on a pool it holds itself."""

from __future__ import annotations

import asyncio

import httpx

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, member_payload
from tests.helpers.app import ADMIN_TOKEN, make_settings


class TestConcurrentClients:
    async def test_a_small_pool_serves_many_concurrent_requests(
        self, own_database_url: str, fake_embedder: Embedder
    ) -> None:
        # Two connections for 24 requests, half of them with a wrong token (whose failure is
        # counted in the database too): each request must hold at most one connection at a time.
        app = create_app(
            make_settings(own_database_url, pool_size=2, auth_failure_limit=1000),
            embedder=fake_embedder,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                member = await create_member(client)
                wrong = {"Authorization": "Bearer pc_wrong-token"}
                responses = await asyncio.gather(
                    *(
                        client.get("/v1/members/me", headers=member.headers if i % 2 else wrong)
                        for i in range(24)
                    )
                )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * 12 + [401] * 12

    async def test_concurrent_writes_are_all_kept(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        created = await asyncio.gather(
            *(
                client.post(
                    "/v1/members",
                    json=member_payload(municipality=f"Parallelstadt {n}", expertise=EXPERTISE),
                    headers=coordinator,
                )
                for n in range(12)
            )
        )
        assert [response.status_code for response in created] == [201] * 12
        asker = await create_member(client, municipality="Fragestadt")
        asked = await asyncio.gather(*(ask(client, asker, **QUESTION) for _ in range(8)))
        assert all(len(question["suggestions"]) == 5 for question in asked)
        exported = await client.get(f"/v1/members/{asker.id}/export", headers=asker.headers)
        assert len(exported.json()["questions"]) == 8
        listed = await client.get("/v1/tags", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert listed.json() == [{"tag": "Leitlinien", "count": 13}]
