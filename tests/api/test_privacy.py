"""Privacy and security promises: erasure leaves nothing behind; guessing tokens is throttled."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.helpers.api import EXPERTISE, QUESTION, ask, assert_problem, create_member, invite
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool, rows_mentioning


class TestErasure:
    async def test_erasing_a_member_leaves_nothing_in_any_table(
        self, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        leaving = await create_member(
            client,
            name="Erika Vergessen",
            email="erika.vergessen@example.org",
            municipality="Löschstadt",
            expertise=EXPERTISE,
            tags=["Bürgerrat", "Einzigartigesschlagwort"],
        )
        staying = await create_member(client, name="Bleibt Hier", municipality="Bleibedorf")
        third = await create_member(
            client, name="Dritte Person", municipality="Drittdorf", expertise=EXPERTISE
        )
        # Her own question with an invitation, and an invitation to her with feedback.
        own = await ask(client, leaving, title="Eigene Frage von Erika", body="Wer kann helfen?")
        await invite(client, leaving, own, third.id)
        asked = await ask(client, staying, **QUESTION)
        response = await invite(client, staying, asked, leaving.id)
        request_id = response.json()[0]["id"]
        await client.post(f"/v1/requests/{request_id}/accept", headers=leaving.headers)
        await client.post(
            f"/v1/requests/{request_id}/feedback", json={"helpful": 4}, headers=staying.headers
        )
        needles = [leaving.id, "Erika Vergessen", "erika.vergessen", "Einzigartigesschlagwort"]
        assert await rows_mentioning(db_pool, needles)  # the check can see her before erasure
        response = await client.delete(f"/v1/members/{leaving.id}", headers=leaving.headers)
        assert response.status_code == 204
        assert await rows_mentioning(db_pool, needles) == {}
        assert await db_pool.fetchval("SELECT count(*) FROM member") == 2
        # The colleague's view of their own requests no longer shows her.
        outgoing = await client.get("/v1/requests", headers=staying.headers)
        assert "Erika" not in outgoing.text and "erika" not in outgoing.text

    async def test_other_members_never_see_an_email_address(
        self, client: httpx.AsyncClient
    ) -> None:
        asker = await create_member(client, email="frage@example.org", municipality="Astadt")
        peer = await create_member(
            client, email="antwort@example.org", municipality="Bstadt", expertise=EXPERTISE
        )
        question = await ask(client, asker, **QUESTION)
        assert "antwort@example.org" not in str(question)
        response = await invite(client, asker, question, peer.id)
        assert "antwort@example.org" not in response.text
        seen = await client.get(f"/v1/members/{peer.id}", headers=asker.headers)
        assert seen.json()["email"] is None
        tags = await client.get("/v1/tags", headers=asker.headers)
        assert "@" not in tags.text


class TestThrottling:
    async def test_repeated_wrong_tokens_get_429_and_a_valid_token_still_works(
        self, app: FastAPI
    ) -> None:
        async def client_at(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://peerconsult")

        guesser = await client_at("203.0.113.7")
        neighbour = await client_at("203.0.113.8")
        async with guesser, neighbour:
            member = await create_member(guesser)
            wrong = {"Authorization": "Bearer pc_guessing"}
            statuses = [
                (await guesser.get("/v1/members/me", headers=wrong)).status_code
                for _ in range(app.state.settings.auth_failure_limit + 5)
            ]
            limit = app.state.settings.auth_failure_limit
            assert statuses[: limit - 1] == [401] * (limit - 1)
            assert set(statuses[limit - 1 :]) == {429}
            refused = await guesser.get("/v1/members/me", headers=wrong)
            body = assert_problem(refused, 429)
            assert int(refused.headers["Retry-After"]) > 0
            assert "wait" in str(body["detail"])
            # The same address, a valid token: the member (or the coordinator) in the same
            # meeting room is not locked out by someone else's typos.
            assert (await guesser.get("/v1/members/me", headers=member.headers)).status_code == 200
            coordinated = await guesser.get(f"/v1/members/{member.id}", headers=COORDINATOR)
            assert coordinated.status_code == 200
            assert (await neighbour.get("/v1/members/me", headers=wrong)).status_code == 401
