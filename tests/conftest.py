"""Test fixtures: a real PostgreSQL with pgvector, a fresh database per test, the real model.

The server is ``TEST_DATABASE_URL`` when set, otherwise an embedded one (pgserver) in a
temporary directory. The schema is built once by the real Alembic migrations into a template
database; each test gets its own copy (CREATE DATABASE … TEMPLATE), so tests are isolated,
commit for real and may run concurrent requests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from service import db
from service.config import Settings
from service.embedding import Embedder, load_embedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ADMIN_TOKEN = "test-coordinator-token-0123456789"
TEMPLATE = "peerconsult_test_template"
DEV_SET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from pgserver.postgres_server import get_server

    # Not under pytest's basetemp: concurrent pytest sessions prune each other's old basetemp
    # directories, which would delete a running server's data directory.
    directory = Path(tempfile.mkdtemp(prefix="peerconsult-test-pg-"))
    server = get_server(directory / "data", cleanup_mode="delete")
    yield str(server.get_uri())
    server.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        url = with_database(server_url, TEMPLATE)
        await db.migrate_async(url)
        yield url
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def migrated_database(server_url: str) -> AsyncIterator[str]:
    """A fresh copy of the migrated template database, dropped afterwards."""
    name = f"peerconsult_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" STRATEGY FILE_COPY')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    async with migrated_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model (multilingual USE, about a second to load)."""
    return load_embedder()


def make_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        migrate_on_start=False,
        **overrides,  # type: ignore[arg-type]
    )


@pytest_asyncio.fixture
async def app(database_url: str, embedder: Embedder) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url), embedder=embedder)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://peerconsult") as http:
        yield http


@pytest.fixture
def coordinator() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
