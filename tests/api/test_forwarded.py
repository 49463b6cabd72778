"""Behind a reverse proxy: X-Forwarded-For is believed from the proxies of
PEERCONSULT_TRUSTED_PROXIES only, and the log says once when another address sends it
(api/middleware.py, ForwardedBy)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from service.embedding import Embedder
from tests.helpers.app import make_settings
from tests.helpers.database import TransactionPool

UNTRUSTED = "requests arrive with X-Forwarded-For from 127.0.0.1, which is not a trusted proxy"


@asynccontextmanager
async def behind_proxy(
    pool: TransactionPool, embedder: Embedder, trusted: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(
        make_settings(trusted_proxies=trusted, auth_failure_limit=2),
        embedder=embedder,
        pool=pool.as_pool(),
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://p") as client,
    ):
        yield app, client


def wrong_from(address: str) -> dict[str, str]:
    return {"Authorization": "Bearer pc_falsch", "X-Forwarded-For": address}


class TestForwardedFor:
    async def test_an_untrusted_proxy_is_named_once_in_the_log(
        self,
        db_pool: TransactionPool,
        fake_embedder: Embedder,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async with behind_proxy(db_pool, fake_embedder, "") as (_, client):
            with caplog.at_level(logging.WARNING, logger="api.middleware"):
                for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
                    await client.get("/v1/members/me", headers=wrong_from(address))
        warnings = [r.getMessage() for r in caplog.records if UNTRUSTED in r.getMessage()]
        assert len(warnings) == 1
        assert "PEERCONSULT_TRUSTED_PROXIES" in warnings[0]

    async def test_untrusted_forwarded_addresses_are_one_client(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with behind_proxy(db_pool, fake_embedder, "") as (_, client):
            codes = [
                (await client.get("/v1/members/me", headers=wrong_from(f"192.0.2.{n}")))
                for n in range(3)
            ]
        assert [response.status_code for response in codes] == [401, 429, 429]

    async def test_a_trusted_proxy_names_each_client(
        self,
        db_pool: TransactionPool,
        fake_embedder: Embedder,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async with behind_proxy(db_pool, fake_embedder, "127.0.0.1") as (_, client):
            with caplog.at_level(logging.WARNING, logger="api.middleware"):
                codes = [
                    (await client.get("/v1/members/me", headers=wrong_from(f"192.0.2.{n}")))
                    for n in range(3)
                ]
        assert [response.status_code for response in codes] == [401, 401, 401]
        assert not [r for r in caplog.records if UNTRUSTED in r.getMessage()]
