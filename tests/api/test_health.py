"""Health and the published API description."""

from __future__ import annotations

import httpx


class TestHealth:
    async def test_healthz_is_ok_when_database_and_model_are_ready(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_openapi_lists_the_contract_routes(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path in (
            "/v1/members",
            "/v1/members/me",
            "/v1/members/{member_id}",
            "/v1/members/{member_id}/tags",
            "/v1/members/{member_id}/export",
            "/v1/tags",
            "/v1/questions",
            "/v1/questions/{question_id}",
            "/v1/questions/{question_id}/suggestions",
        ):
            assert path in paths
        assert (await client.get("/docs")).status_code == 200
