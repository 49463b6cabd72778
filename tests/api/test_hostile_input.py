"""Input a client should not send: every answer is the documented 4xx, and the OpenAPI schema
says what the server accepts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from service.members import service as members_service
from tests.helpers.api import QUESTION, CreatedMember, ask, assert_problem, create_member

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

    async def test_a_body_in_utf16_or_with_a_byte_order_mark_is_422(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        text = '{"title": "Bürgerrat", "body": "Wer hat einen Bürgerrat gelost?"}'
        for body in (
            text.encode("utf-16"),
            text.encode("utf-16-le"),
            text.encode("utf-32"),
            b"\xef\xbb\xbf" + text.encode("utf-8"),
        ):
            response = await client.post(
                "/v1/questions",
                content=body,
                headers={**member.headers, "Content-Type": "application/json"},
            )
            detail = str(assert_problem(response, 422)["detail"])
            assert "UTF-8" in detail, detail
        plain = await client.post(
            "/v1/questions",
            content=text.encode("utf-8"),
            headers={**member.headers, "Content-Type": "application/json"},
        )
        assert plain.status_code == 201

    async def test_a_lone_surrogate_is_invalid_input(self, client: httpx.AsyncClient) -> None:
        member = await create_member(client)
        response = await client.patch(
            f"/v1/members/{member.id}",
            content=b'{"expertise": "B\\ud800rgerrat"}',
            headers={**member.headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 422)

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

    async def test_a_path_of_its_own_lists_only_its_methods(
        self, client: httpx.AsyncClient
    ) -> None:
        """/v1/members/me is no member id: PATCH and DELETE are not offered there."""
        member = await create_member(client)
        response = await client.options("/v1/members/me", headers=member.headers)
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        assert_problem(await client.patch("/v1/members/me", json={}, headers=member.headers), 405)

    async def test_options_of_an_unknown_path_is_404(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.options("/v1/nichts"), 404)


class TestIds:
    async def test_an_id_that_is_no_uuid_names_nothing_and_is_not_echoed(
        self, client: httpx.AsyncClient
    ) -> None:
        member: CreatedMember = await create_member(client)
        response = await client.get(f"/v1/members/{'x' * 10_000}", headers=member.headers)
        detail = str(assert_problem(response, 404)["detail"])
        assert "xxx" not in detail

    async def test_an_unknown_uuid_is_404(self, client: httpx.AsyncClient) -> None:
        member: CreatedMember = await create_member(client)
        response = await client.get(
            "/v1/members/00000000-0000-4000-8000-000000000000", headers=member.headers
        )
        assert "No member with id" in str(assert_problem(response, 404)["detail"])

    async def test_invitees_that_are_no_uuids_are_invalid_input(
        self, client: httpx.AsyncClient
    ) -> None:
        asker = await create_member(client)
        question = await ask(client, asker, **QUESTION)
        response = await client.post(
            f"/v1/questions/{question['id']}/requests",
            json={"member_ids": ["jemand"]},
            headers=asker.headers,
        )
        body = assert_problem(response, 422)
        assert str(body["errors"]).count("member_ids") == 1


class TestUnexpectedErrors:
    async def test_a_500_closes_the_connection_and_says_so(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        member = await create_member(client)

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(members_service, "get_member", broken)
        response = await client.get("/v1/members/me", headers=member.headers)
        assert_problem(response, 500)
        assert response.headers["connection"] == "close"


class TestDocumentation:
    async def test_the_api_documentation_needs_no_internet(self, client: httpx.AsyncClient) -> None:
        for page in ("/docs", "/redoc"):
            shown = await client.get(page)
            assert shown.status_code == 200
            assert "https://" not in shown.text.replace("https://fastapi", "")
            assets = re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', shown.text)
            assert assets, shown.text
            for asset in assets:
                assert (await client.get(asset)).status_code == 200, asset
