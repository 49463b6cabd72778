"""Concurrent clients: no 5xx, no lost write, no request waiting on a pool it holds itself."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from api.middleware import ATTEMPTS, RetryAbortedTransactions, WholeBody
from models.questions import Suggestion
from service import db
from service.embedding import Embedder
from service.members import repository as members_repository
from service.questions import repository as questions_repository
from service.requests import repository as requests_repository
from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    CreatedMember,
    ask,
    create_member,
    invite,
    member_payload,
)
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


class TestLocks:
    """A question stores its suggestions, which refer to the suggested members, while an
    invitation or a profile change holds those members: neither waits for the other, so they
    cannot deadlock. (With FOR UPDATE on the members they waited, and under concurrent use a
    question's suggestions in rank order and an invitation's members in id order deadlocked.)"""

    async def test_suggestions_are_stored_while_members_are_held(
        self, own_database_url: str, fake_embedder: Embedder
    ) -> None:
        app = create_app(make_settings(own_database_url), embedder=fake_embedder)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                asker = await create_member(client, municipality="Fragestadt")
                peers = [
                    await create_member(client, municipality=f"Ort {n}", expertise=EXPERTISE)
                    for n in range(2)
                ]
                question = await ask(client, asker, **QUESTION)
        asker_id, peer_ids = UUID(asker.id), [UUID(peer.id) for peer in peers]
        suggestions = [
            Suggestion.model_validate(item) for item in reversed(question["suggestions"])
        ]
        holder, writer = await db.connect(own_database_url), await db.connect(own_database_url)
        try:
            # Without the fix the writer would wait for the holder: a lock it cannot get in
            # time is an error here, not a wait.
            await writer.execute("SET lock_timeout = '5s'")
            for hold in (
                lambda: requests_repository.invitees(
                    holder, asker_id=asker_id, member_ids=peer_ids
                ),
                lambda: members_repository.get_member(holder, peer_ids[0], for_update=True),
            ):
                async with holder.transaction():
                    await hold()
                    async with writer.transaction():
                        await questions_repository.insert_question(
                            writer,
                            asker_id=asker_id,
                            title="Noch eine Frage",
                            body="Wer hilft?",
                            tags=[],
                            suggestions=suggestions,
                            coverage=1.0,
                            model=fake_embedder.name,
                        )
        finally:
            await holder.close()
            await writer.close()


class TestAbortedTransactions:
    """A request whose transaction PostgreSQL aborted (deadlock, serialization failure) is
    run again with its body; if it keeps failing, the client gets 503 with Retry-After."""

    @staticmethod
    def app(failures: int, calls: list[bytes]) -> ASGIApp:
        async def application(scope: Scope, receive: Receive, send: Send) -> None:
            message = await receive()
            calls.append(message.get("body", b""))
            if len(calls) <= failures:
                raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
            await JSONResponse({"attempt": len(calls)})(scope, receive, send)

        async def no_pause(seconds: float) -> None:
            pass

        return WholeBody(RetryAbortedTransactions(application, sleep=no_pause), max_bytes=1000)

    async def test_is_run_again_with_its_body(self) -> None:
        calls: list[bytes] = []
        transport = httpx.ASGITransport(app=self.app(2, calls))
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            response = await client.post("/v1/questions", json={"title": "Frage"})
        assert response.status_code == 200
        assert response.json() == {"attempt": 3}
        assert calls == [b'{"title":"Frage"}'] * 3

    async def test_that_keeps_failing_is_a_503_with_retry_after(self) -> None:
        calls: list[bytes] = []
        transport = httpx.ASGITransport(app=self.app(100, calls))
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            response = await client.post("/v1/questions", json={"title": "Frage"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert len(calls) == ATTEMPTS


class TestBusyNetwork:
    async def test_mixed_writes_on_shared_members_all_succeed_and_stay(
        self, own_database_url: str, fake_embedder: Embedder
    ) -> None:
        """Eight members at once ask, invite each other, answer invitations and change their
        profiles, with four connections between them: no answer is a 5xx, and every write
        that was acknowledged is there afterwards."""
        app = create_app(make_settings(own_database_url, pool_size=4), embedder=fake_embedder)
        statuses: list[int] = []
        asked: list[str] = []
        accepted: list[str] = []
        expertise: dict[str, str] = {}

        async def member_at_work(client: httpx.AsyncClient, me: CreatedMember) -> None:
            def seen(response: httpx.Response) -> httpx.Response:
                statuses.append(response.status_code)
                return response

            for round_ in range(12):
                question = seen(
                    await client.post("/v1/questions", json=QUESTION, headers=me.headers)
                )
                if question.status_code == 201:
                    asked.append(question.json()["id"])
                    peers = [s["member"]["id"] for s in question.json()["suggestions"][:2]]
                    if peers:
                        seen(await invite(client, me, question.json(), *peers))
                incoming = seen(
                    await client.get(
                        "/v1/requests", params={"direction": "incoming"}, headers=me.headers
                    )
                )
                for request in incoming.json():
                    if request["status"] == "pending":
                        verb = "accept" if round_ % 2 else "decline"
                        answered = seen(
                            await client.post(
                                f"/v1/requests/{request['id']}/{verb}", headers=me.headers
                            )
                        )
                        if answered.status_code == 200 and verb == "accept":
                            accepted.append(request["id"])
                text = f"{EXPERTISE} Stand {round_}."
                changed = seen(
                    await client.patch(
                        f"/v1/members/{me.id}",
                        json={"expertise": text, "tags": ["Bürgerrat", f"Runde {round_}"]},
                        headers=me.headers,
                    )
                )
                if changed.status_code == 200:
                    expertise[me.id] = text

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                members = [
                    await create_member(
                        client,
                        municipality=f"Arbeitsort {n}",
                        expertise=EXPERTISE,
                        max_open_requests=100,
                    )
                    for n in range(8)
                ]
                await asyncio.gather(*(member_at_work(client, me) for me in members))
                assert not [status for status in statuses if status >= 500]
                assert statuses.count(201) >= 8 * 12  # every question, and invitations
                for me in members:
                    profile = (await client.get("/v1/members/me", headers=me.headers)).json()
                    assert profile["expertise"] == expertise[me.id]
                coordinator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                for question_id in asked:
                    found = await client.get(f"/v1/questions/{question_id}", headers=coordinator)
                    assert found.status_code == 200
                for request_id in accepted:
                    request = await client.get(f"/v1/requests/{request_id}", headers=coordinator)
                    assert request.json()["status"] == "accepted"
