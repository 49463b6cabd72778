"""The consultation workflow over HTTP: invitations, answers, contact, feedback, capacity."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.api import EXPERTISE, QUESTION, ask, assert_problem, create_member, invite
from tests.helpers.database import TransactionPool


async def setup(client: httpx.AsyncClient, **peer_fields: Any) -> dict[str, Any]:
    asker = await create_member(client, municipality="Fragedorf", email="asker@example.org")
    peer = await create_member(
        client,
        municipality="Losstadt",
        email="peer@example.org",
        expertise=EXPERTISE,
        **peer_fields,
    )
    question = await ask(client, asker, **QUESTION)
    return {"asker": asker, "peer": peer, "question": question}


async def invited(client: httpx.AsyncClient, **peer_fields: Any) -> dict[str, Any]:
    world = await setup(client, **peer_fields)
    response = await invite(client, world["asker"], world["question"], world["peer"].id)
    assert response.status_code == 201, response.text
    world["request"] = response.json()[0]
    return world


class TestInvite:
    async def test_invitation_is_pending_without_contact(self, client: httpx.AsyncClient) -> None:
        world = await invited(client)
        request = world["request"]
        assert request["status"] == "pending"
        assert request["asker"]["id"] == world["asker"].id
        assert request["peer"]["id"] == world["peer"].id
        assert request["message"] == "Hättest du Zeit für ein Gespräch?"
        assert request.get("contact") is None
        incoming = await client.get(
            "/v1/requests?direction=incoming", headers=world["peer"].headers
        )
        assert [item["id"] for item in incoming.json()] == [request["id"]]
        assert incoming.json()[0]["question"]["title"] == QUESTION["title"]
        assert "asker@example.org" not in incoming.text
        outgoing = await client.get(
            "/v1/requests?direction=outgoing", headers=world["asker"].headers
        )
        assert [item["id"] for item in outgoing.json()] == [request["id"]]
        none = await client.get("/v1/requests?direction=incoming", headers=world["asker"].headers)
        assert none.json() == []

    async def test_own_municipality_and_self_are_refused(self, client: httpx.AsyncClient) -> None:
        world = await setup(client)
        neighbour = await create_member(client, municipality="Fragedorf", expertise=EXPERTISE)
        for member_id in (neighbour.id, world["asker"].id):
            response = await invite(client, world["asker"], world["question"], member_id)
            assert_problem(response, 422)

    async def test_paused_member_is_refused(self, client: httpx.AsyncClient) -> None:
        world = await setup(client, accepting_requests=False)
        response = await invite(client, world["asker"], world["question"], world["peer"].id)
        body = assert_problem(response, 409)
        assert "not accepting" in str(body["detail"])

    async def test_all_or_nothing(self, client: httpx.AsyncClient) -> None:
        world = await setup(client)
        paused = await create_member(client, municipality="Pausenhausen", accepting_requests=False)
        response = await invite(
            client, world["asker"], world["question"], world["peer"].id, paused.id
        )
        assert_problem(response, 409)
        listed = await client.get("/v1/requests", headers=world["asker"].headers)
        assert listed.json() == []

    async def test_unknown_member_twice_invited_and_foreign_question(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await invited(client)
        unknown = "00000000-0000-0000-0000-000000000000"
        assert_problem(await invite(client, world["asker"], world["question"], unknown), 404)
        again = await invite(client, world["asker"], world["question"], world["peer"].id)
        assert_problem(again, 409)
        stranger = await create_member(client, municipality="Fremdstadt")
        assert_problem(await invite(client, stranger, world["question"], world["peer"].id), 403)

    async def test_bad_bodies_are_422(self, client: httpx.AsyncClient) -> None:
        world = await setup(client)
        path = f"/v1/questions/{world['question']['id']}/requests"
        bodies: list[dict[str, Any]] = [
            {"member_ids": []},
            {"member_ids": ["x"] * 11},
            {"message": "hi"},
        ]
        for body in bodies:
            response = await client.post(path, json=body, headers=world["asker"].headers)
            assert_problem(response, 422)


class TestCapacity:
    async def test_full_member_is_neither_invited_nor_suggested(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await invited(client, max_open_requests=1)
        other_asker = await create_member(client, municipality="Drittstadt")
        question = await ask(client, other_asker, **QUESTION)
        assert world["peer"].id not in [s["member"]["id"] for s in question["suggestions"]]
        response = await invite(client, other_asker, question, world["peer"].id)
        body = assert_problem(response, 409)
        assert "capacity" in str(body["detail"])
        declined = await client.post(
            f"/v1/requests/{world['request']['id']}/decline", headers=world["peer"].headers
        )
        assert declined.status_code == 200
        again = await ask(client, other_asker, **QUESTION)
        assert world["peer"].id in [s["member"]["id"] for s in again["suggestions"]]


class TestAnswer:
    async def test_accept_shares_contact_with_the_two_parties_only(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        world = await invited(client)
        path = f"/v1/requests/{world['request']['id']}"
        response = await client.post(f"{path}/accept", headers=world["peer"].headers)
        assert response.status_code == 200
        accepted = response.json()
        assert accepted["status"] == "accepted"
        assert accepted["responded_at"]
        assert accepted["contact"]["asker"]["email"] == "asker@example.org"
        assert accepted["contact"]["peer"]["email"] == "peer@example.org"
        seen_by_asker = await client.get(path, headers=world["asker"].headers)
        assert seen_by_asker.json()["contact"]["peer"]["email"] == "peer@example.org"
        seen_by_coordinator = await client.get(path, headers=coordinator)
        assert seen_by_coordinator.json()["contact"] is None
        outsider = await create_member(client, municipality="Außenstadt")
        assert_problem(await client.get(path, headers=outsider.headers), 403)

    async def test_only_valid_transitions(self, client: httpx.AsyncClient) -> None:
        world = await invited(client)
        path = f"/v1/requests/{world['request']['id']}"
        assert_problem(await client.post(f"{path}/accept", headers=world["asker"].headers), 403)
        assert_problem(await client.post(f"{path}/withdraw", headers=world["peer"].headers), 403)
        assert (await client.post(f"{path}/decline", headers=world["peer"].headers)).is_success
        for action, who in (("accept", "peer"), ("decline", "peer"), ("withdraw", "asker")):
            response = await client.post(f"{path}/{action}", headers=world[who].headers)
            assert_problem(response, 409)
        assert_problem(
            await client.post("/v1/requests/nope/accept", headers=world["peer"].headers), 404
        )

    async def test_asker_withdraws_a_pending_request(self, client: httpx.AsyncClient) -> None:
        world = await invited(client)
        path = f"/v1/requests/{world['request']['id']}"
        response = await client.post(f"{path}/withdraw", headers=world["asker"].headers)
        assert response.json()["status"] == "withdrawn"
        assert_problem(await client.post(f"{path}/accept", headers=world["peer"].headers), 409)

    async def test_pending_requests_expire(
        self, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        world = await invited(client)
        await db_pool.execute(
            "UPDATE consultation_request SET expires_at = now() - interval '1 minute'"
        )
        path = f"/v1/requests/{world['request']['id']}"
        seen = await client.get(path, headers=world["peer"].headers)
        assert seen.json()["status"] == "expired"
        assert_problem(await client.post(f"{path}/accept", headers=world["peer"].headers), 409)


class TestFeedback:
    async def test_feedback_after_acceptance_once_by_the_asker(
        self, client: httpx.AsyncClient
    ) -> None:
        world = await invited(client)
        path = f"/v1/requests/{world['request']['id']}"
        rating = {"helpful": 5, "comment": "Sehr hilfreich, danke!"}
        too_early = await client.post(
            f"{path}/feedback", json=rating, headers=world["asker"].headers
        )
        assert_problem(too_early, 409)
        await client.post(f"{path}/accept", headers=world["peer"].headers)
        assert_problem(
            await client.post(f"{path}/feedback", json=rating, headers=world["peer"].headers), 403
        )
        for bad in ({"helpful": 0}, {"helpful": 6}, {"comment": "ohne Note"}):
            response = await client.post(
                f"{path}/feedback", json=bad, headers=world["asker"].headers
            )
            assert_problem(response, 422)
        given = await client.post(f"{path}/feedback", json=rating, headers=world["asker"].headers)
        assert given.status_code == 201
        assert given.json()["feedback"]["helpful"] == 5
        twice = await client.post(f"{path}/feedback", json=rating, headers=world["asker"].headers)
        assert_problem(twice, 409)
        seen_by_peer = await client.get(path, headers=world["peer"].headers)
        assert seen_by_peer.json()["feedback"] is None

    async def test_helpful_consultations_raise_the_prior_between_equals(
        self, client: httpx.AsyncClient
    ) -> None:
        asker = await create_member(client, municipality="Fragedorf")
        first = await create_member(client, municipality="Astadt", expertise=EXPERTISE)
        second = await create_member(client, municipality="Bstadt", expertise=EXPERTISE)
        question = await ask(client, asker, **QUESTION)
        ranked = [s["member"]["id"] for s in question["suggestions"]]
        favourite = ranked[1]  # whoever came second gets the good feedback
        for _ in range(3):
            helper = await create_member(client, municipality=f"Helferstadt {_}")
            helper_question = await ask(client, helper, **QUESTION)
            response = await invite(client, helper, helper_question, favourite)
            request_id = response.json()[0]["id"]
            peer = first if favourite == first.id else second
            await client.post(f"/v1/requests/{request_id}/accept", headers=peer.headers)
            await client.post(
                f"/v1/requests/{request_id}/feedback",
                json={"helpful": 5},
                headers=helper.headers,
            )
        again = await ask(client, asker, **QUESTION)
        assert again["suggestions"][0]["member"]["id"] == favourite
