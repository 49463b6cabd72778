"""PostgreSQL stopped under a running service: 503 meanwhile, then recovery by itself."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from service import db
from service.embedding import Embedder
from tests.helpers.api import create_member
from tests.helpers.app import make_settings


@pytest.fixture
def own_server() -> Iterator[Any]:
    """An embedded PostgreSQL of this test's own, since the test stops it."""
    from pgserver.postgres_server import get_server

    directory = Path(tempfile.mkdtemp(prefix="peerconsult-outage-"))
    server = get_server(directory / "data", cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


def stop(server: Any) -> None:
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


class TestDatabaseOutage:
    async def test_503_while_stopped_then_recovers(
        self, own_server: Any, fake_embedder: Embedder
    ) -> None:
        url = str(own_server.get_uri())
        await db.migrate_async(url)
        app = create_app(make_settings(url), embedder=fake_embedder)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                member = await create_member(client)
                await asyncio.to_thread(stop, own_server)

                for path in ("/healthz", "/v1/members/me"):
                    response = await client.get(path, headers=member.headers)
                    assert response.status_code == 503, response.text
                    assert response.headers["content-type"].startswith("application/problem+json")
                    assert response.headers["Retry-After"]

                await asyncio.to_thread(own_server.ensure_postgres_running)
                statuses = []
                for _ in range(50):  # the pool replaces its broken connections as it meets them
                    response = await client.get("/v1/members/me", headers=member.headers)
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert statuses[-1] == 200
                assert set(statuses) <= {200, 503}
                assert response.json()["id"] == member.id
                assert (await client.get("/healthz")).status_code == 200
