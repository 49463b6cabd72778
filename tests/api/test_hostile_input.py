"""Input a client should not send: every answer is the documented 4xx, and the OpenAPI schema
says what the server accepts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.helpers.api import CreatedMember, assert_problem, create_member

MEGABYTE = 1_000_000


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


class TestBodies:
    async def test_a_large_body_in_chunks_is_413(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        """Without Content-Length the bytes are counted as they arrive."""
        response = await client.post(
            "/v1/members",
            content=chunks(5 * MEGABYTE),
            headers={**coordinator, "Content-Type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert_problem(response, 413)

    async def test_a_body_that_is_not_utf8_is_422(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/members",
            content='{"name": "J\xf6rg"}'.encode("latin-1"),
            headers={**coordinator, "Content-Type": "application/json"},
        )
        assert "UTF-8" in str(assert_problem(response, 422)["detail"])

    async def test_an_integer_of_five_thousand_digits_is_422(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await client.post(
            "/v1/questions",
            content=b'{"title": "T", "body": "B", "limit": ' + b"9" * 5000 + b"}",
            headers={**member.headers, "Content-Type": "application/json"},
        )
        assert "too large" in str(assert_problem(response, 422)["detail"])

    async def test_json_nested_a_hundred_thousand_levels_is_422(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await client.patch(
            f"/v1/members/{member.id}",
            content=b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            headers={**member.headers, "Content-Type": "application/json"},
        )
        assert "too deeply" in str(assert_problem(response, 422)["detail"])


class TestStrictTypes:
    async def test_booleans_and_strings_are_not_numbers(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        for update in ({"max_open_requests": False}, {"accepting_requests": "yes"}):
            response = await client.patch(
                f"/v1/members/{member.id}", json=update, headers=member.headers
            )
            assert_problem(response, 422)
        for limit in (True, "5", 2.5):
            response = await client.post(
                "/v1/questions",
                json={"title": "T", "body": "B", "limit": limit},
                headers=member.headers,
            )
            assert_problem(response, 422)
        profile = (await client.get("/v1/members/me", headers=member.headers)).json()
        assert profile["max_open_requests"] == 3  # nothing was stored

    async def test_null_is_neither_accepted_nor_documented_for_a_change(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        for field in ("municipality", "accepting_requests", "name"):
            response = await client.patch(
                f"/v1/members/{member.id}", json={field: None}, headers=member.headers
            )
            assert_problem(response, 422)
        schema = (await client.get("/openapi.json")).json()
        fields = schema["components"]["schemas"]["MemberUpdate"]["properties"]
        assert "null" not in str(fields)

    async def test_the_schema_says_text_holds_no_nul(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.put(
            f"/v1/members/{member.id}/tags",
            json={"tags": ["Bürger\x00rat"]},
            headers=member.headers,
        )
        assert_problem(response, 422)
        schema = (await client.get("/openapi.json")).json()
        tag = schema["components"]["schemas"]["TagsReplace"]["properties"]["tags"]["items"]
        assert tag["pattern"] == "^[^\\x00]*$"

    async def test_text_of_invisible_characters_is_no_text(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        for expertise in ("\u200b\u200b\u200b", "\u2060 \ufeff"):
            response = await client.patch(
                f"/v1/members/{member.id}", json={"expertise": expertise}, headers=member.headers
            )
            assert_problem(response, 422)


class TestMethods:
    async def test_options_lists_every_method_of_the_path(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.options(f"/v1/members/{member.id}", headers=member.headers)
        assert response.status_code == 204
        assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"

    async def test_405_says_every_method_of_the_path(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.put(f"/v1/members/{member.id}", headers=member.headers)
        assert_problem(response, 405)
        assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"

    async def test_head_answers_wherever_get_does(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        got = await client.get("/v1/members/me", headers=member.headers)
        head = await client.head("/v1/members/me", headers=member.headers)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert (await client.head("/healthz")).status_code == 200

    async def test_options_of_an_unknown_path_is_404(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.options("/v1/nichts"), 404)


class TestEchoes:
    async def test_a_long_unknown_id_is_not_echoed_whole(self, client: httpx.AsyncClient) -> None:
        member: CreatedMember = await create_member(client)
        response = await client.get(f"/v1/members/{'x' * 10_000}", headers=member.headers)
        detail = str(assert_problem(response, 404)["detail"])
        assert len(detail) < 100
        assert detail.startswith("No member with id 'xxxx")
