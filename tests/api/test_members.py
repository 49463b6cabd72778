"""Members over HTTP: creation, visibility, changes, tags, tokens, export, erasure."""

from __future__ import annotations

import httpx

from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    ask,
    assert_problem,
    create_member,
    invite,
    member_payload,
)


class TestCreateMember:
    async def test_coordinator_creates_member_with_token_shown_once(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        payload = member_payload(email="anna@example.org", tags=["Bürgerhaushalt", "Leitlinien"])
        response = await client.post("/v1/members", json=payload, headers=coordinator)
        assert response.status_code == 201
        body = response.json()
        assert body["token"] and len(body["token"]) >= 43
        assert body["email"] == "anna@example.org"
        assert body["municipality"]["name"] == "Musterstadt"
        assert body["tags"] == ["Bürgerhaushalt", "Leitlinien"]
        assert body["accepting_requests"] is True
        fetched = await client.get(f"/v1/members/{body['id']}", headers=coordinator)
        assert "token" not in fetched.json()

    async def test_token_authenticates_the_member(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        me = await client.get("/v1/members/me", headers=member.headers)
        assert me.status_code == 200
        assert me.json()["id"] == member.id

    async def test_member_cannot_create_members(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.post("/v1/members", json=member_payload(), headers=member.headers)
        assert_problem(response, 403)

    async def test_without_or_with_wrong_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.post("/v1/members", json=member_payload()), 401)
        response = await client.get(
            "/v1/members/me", headers={"Authorization": "Bearer pc_not-a-real-token"}
        )
        assert_problem(response, 401)

    async def test_duplicate_email_is_409_and_writes_nothing(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        await create_member(client, email="same@example.org", municipality="Erststadt")
        response = await client.post(
            "/v1/members",
            json=member_payload(email="SAME@example.org", municipality="Zweitstadt"),
            headers=coordinator,
        )
        assert_problem(response, 409)
        tags = await client.get("/v1/tags", headers=coordinator)
        assert tags.json() == [{"tag": "Leitlinien", "count": 1}]

    async def test_same_municipality_is_recognized_across_spellings(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await create_member(client, municipality="Bad Homburg v.d. Höhe", state="Hessen")
        second = await create_member(client, municipality="bad homburg v. d. hoehe", state="hessen")
        assert first.body["municipality"]["id"] == second.body["municipality"]["id"]

    async def test_invalid_input_is_422_with_the_fields(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        cases = [
            member_payload(email="not-an-address"),
            member_payload(name="   "),
            member_payload(name="x" * 201),
            member_payload(expertise="   "),
            member_payload(tags=[f"Thema {n}" for n in range(31)]),
            member_payload(tags=["x" * 61]),
            member_payload(languages=["deutsch"]),
            member_payload(max_open_requests=-1),
            member_payload(expertise="Null\x00Byte"),
            {**member_payload(), "favourite_colour": "blau"},
            {key: value for key, value in member_payload().items() if key != "municipality"},
        ]
        for payload in cases:
            response = await client.post("/v1/members", json=payload, headers=coordinator)
            body = assert_problem(response, 422)
            assert body["errors"], payload
        listed = await client.get("/v1/tags", headers=coordinator)
        assert listed.json() == []

    async def test_malformed_json_is_a_problem_not_a_500(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/members",
            content=b'{"name": "Anna", ',
            headers={**coordinator, "Content-Type": "application/json"},
        )
        body = assert_problem(response, 422)
        assert "JSON" in str(body["detail"])

    async def test_body_over_one_megabyte_is_413(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        payload = member_payload(expertise="Beteiligung " * 100_000)
        response = await client.post("/v1/members", json=payload, headers=coordinator)
        assert_problem(response, 413)


class TestGetMember:
    async def test_other_members_do_not_see_the_email(self, client: httpx.AsyncClient) -> None:
        anna = await create_member(client, email="anna@example.org")
        bernd = await create_member(client)
        seen_by_bernd = await client.get(f"/v1/members/{anna.id}", headers=bernd.headers)
        assert seen_by_bernd.status_code == 200
        assert seen_by_bernd.json()["email"] is None
        seen_by_anna = await client.get(f"/v1/members/{anna.id}", headers=anna.headers)
        assert seen_by_anna.json()["email"] == "anna@example.org"

    async def test_unknown_or_malformed_id_is_404(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        unknown = "00000000-0000-0000-0000-000000000000"
        assert_problem(await client.get(f"/v1/members/{unknown}", headers=member.headers), 404)
        assert_problem(await client.get("/v1/members/abc", headers=member.headers), 404)

    async def test_coordinator_has_no_own_profile(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        assert_problem(await client.get("/v1/members/me", headers=coordinator), 403)


class TestUpdateMember:
    async def test_member_updates_own_profile(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.patch(
            f"/v1/members/{member.id}",
            json={"role": "Leiterin Stabsstelle", "accepting_requests": False, "tags": ["Lokal"]},
            headers=member.headers,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["role"] == "Leiterin Stabsstelle"
        assert body["accepting_requests"] is False
        assert body["tags"] == ["Lokal"]
        assert body["name"] == member.body["name"]
        assert body["updated_at"] >= member.body["updated_at"]

    async def test_member_cannot_change_someone_else(self, client: httpx.AsyncClient) -> None:
        anna = await create_member(client)
        bernd = await create_member(client)
        response = await client.patch(
            f"/v1/members/{anna.id}", json={"role": "gehackt"}, headers=bernd.headers
        )
        assert_problem(response, 403)
        unchanged = await client.get(f"/v1/members/{anna.id}", headers=anna.headers)
        assert unchanged.json()["role"] == anna.body["role"]

    async def test_only_the_coordinator_moves_a_member(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        moved = {"municipality": {"name": "Neustadt", "state": "Sachsen"}}
        response = await client.patch(
            f"/v1/members/{member.id}", json=moved, headers=member.headers
        )
        assert_problem(response, 403)
        response = await client.patch(f"/v1/members/{member.id}", json=moved, headers=coordinator)
        assert response.status_code == 200
        assert response.json()["municipality"]["name"] == "Neustadt"

    async def test_null_for_a_required_field_is_422(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.patch(
            f"/v1/members/{member.id}", json={"name": None}, headers=member.headers
        )
        assert_problem(response, 422)

    async def test_email_taken_by_another_member_is_409(self, client: httpx.AsyncClient) -> None:
        await create_member(client, email="taken@example.org")
        member = await create_member(client)
        response = await client.patch(
            f"/v1/members/{member.id}", json={"email": "taken@example.org"}, headers=member.headers
        )
        assert_problem(response, 409)


class TestTags:
    async def test_put_replaces_tags(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client, tags=["Alt"])
        response = await client.put(
            f"/v1/members/{member.id}/tags",
            json={"tags": ["Jugendbeteiligung", "Bürgerrat"]},
            headers=member.headers,
        )
        assert response.status_code == 200
        assert response.json()["tags"] == ["Jugendbeteiligung", "Bürgerrat"]

    async def test_vocabulary_counts_normalized_spellings_together(
        self, client: httpx.AsyncClient
    ) -> None:
        await create_member(client, tags=["Bürgerhaushalt"])
        await create_member(client, tags=["buergerhaushalt"])
        member = await create_member(client, tags=["Bürgerhaushalt", "Leitlinien"])
        response = await client.get("/v1/tags", headers=member.headers)
        assert response.status_code == 200
        counts = {item["tag"]: item["count"] for item in response.json()}
        assert counts == {"Bürgerhaushalt": 3, "Leitlinien": 1}

    async def test_vocabulary_needs_a_token(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v1/tags"), 401)


class TestTokens:
    async def test_rotation_stops_the_old_token_at_once(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.post(f"/v1/members/{member.id}/token", headers=member.headers)
        assert response.status_code == 200
        new_token = response.json()["token"]
        assert new_token != member.token
        assert_problem(await client.get("/v1/members/me", headers=member.headers), 401)
        fresh = {"Authorization": f"Bearer {new_token}"}
        assert (await client.get("/v1/members/me", headers=fresh)).status_code == 200


class TestDeleteAndExport:
    async def test_member_erases_themselves(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        response = await client.delete(f"/v1/members/{member.id}", headers=member.headers)
        assert response.status_code == 204
        assert_problem(await client.get(f"/v1/members/{member.id}", headers=coordinator), 404)
        assert_problem(await client.get("/v1/members/me", headers=member.headers), 401)

    async def test_member_cannot_erase_someone_else(self, client: httpx.AsyncClient) -> None:
        anna = await create_member(client)
        bernd = await create_member(client)
        assert_problem(await client.delete(f"/v1/members/{anna.id}", headers=bernd.headers), 403)

    async def test_export_holds_profile_passages_terms_and_questions(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, email="export@example.org")
        await create_member(client, municipality="Anderswo")
        asked = await client.post(
            "/v1/questions",
            json={"title": "Leitlinien", "body": "Wie habt ihr Leitlinien beschlossen?"},
            headers=member.headers,
        )
        assert asked.status_code == 201
        response = await client.get(f"/v1/members/{member.id}/export", headers=member.headers)
        assert response.status_code == 200
        export = response.json()
        assert export["member"]["email"] == "export@example.org"
        assert export["passages"] and export["passages"][0]["text"]
        # The expertise's words as they are searched: stemmed, without stop words.
        assert "stadtrat" in export["search_terms"]
        assert "leitlini" in export["search_terms"]
        assert "ich" not in export["search_terms"]
        assert [question["id"] for question in export["questions"]] == [asked.json()["id"]]

    async def test_export_holds_the_feedback_the_member_received_and_says_so_in_german(
        self, client: httpx.AsyncClient
    ) -> None:
        asker = await create_member(client, municipality="Aachen")
        expert = await create_member(client, municipality="Bonn", expertise=EXPERTISE)
        question = await ask(client, asker, **QUESTION)
        request_id = (await invite(client, asker, question, expert.id)).json()[0]["id"]
        await client.post(f"/v1/requests/{request_id}/accept", headers=expert.headers)
        await client.post(
            f"/v1/requests/{request_id}/feedback",
            json={"helpful": 5, "comment": "Sehr hilfreich, danke!"},
            headers=asker.headers,
        )
        export = (
            await client.get(f"/v1/members/{expert.id}/export", headers=expert.headers)
        ).json()
        [received] = export["feedback_received"]
        assert (received["helpful"], received["comment"]) == (5, "Sehr hilfreich, danke!")
        assert export["note"].startswith("Zugangsschlüssel")

    async def test_export_is_private(self, client: httpx.AsyncClient) -> None:
        anna = await create_member(client)
        bernd = await create_member(client)
        response = await client.get(f"/v1/members/{anna.id}/export", headers=bernd.headers)
        assert_problem(response, 403)
