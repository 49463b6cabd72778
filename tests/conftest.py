"""Fixtures: a real PostgreSQL with pgvector, one database for the run, a transaction per test.

The server is ``TEST_DATABASE_URL`` when set, otherwise an embedded one (pgserver) in a
temporary directory. The schema is built once by the real Alembic migrations into a template
database, and the run's database is a copy of it.

Most tests run inside one transaction on the run's database that is rolled back at their end:
the ``app`` (and so ``client``) gets a pool of that one connection (``TransactionPool``), so
every request's transaction is a savepoint in the test's. Tests whose work must really commit
(other processes, several connections at once, VACUUM, stopping the server) take
``own_database_url``: a fresh copy of the template, dropped afterwards.

The embedding model is ``FakeEmbedder`` unless a test asks for the real one: with the
``real_model`` mark for the application, or the ``embedder`` fixture directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from service import db
from service.embedding import Embedder, load_embedder
from tests.helpers.app import COORDINATOR, make_settings
from tests.helpers.database import TEMPLATE, TransactionPool, own_database, with_database
from tests.helpers.embedder import FakeEmbedder
from tests.helpers.mail import Mailed, api_client, mailing_app
from tests.helpers.web import browser_of

os.environ.setdefault("HF_HUB_OFFLINE", "1")


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


@pytest_asyncio.fixture(scope="session")
async def run_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """The run's database, which tests share inside transactions of their own."""
    async with own_database(server_url, template=TEMPLATE) as url:
        yield url


@pytest_asyncio.fixture
async def own_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own, for work that must really commit."""
    async with own_database(server_url, template=TEMPLATE) as url:
        yield url


@pytest_asyncio.fixture
async def db_pool(run_database_url: str) -> AsyncIterator[TransactionPool]:
    """The run's database seen through one connection inside a transaction, rolled back when
    the test ends: nothing the test writes is seen by the next."""
    conn = await db.connect(run_database_url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield TransactionPool(conn)
    finally:
        await transaction.rollback()
        await conn.close()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model (multilingual USE, about a second to load)."""
    return load_embedder()


@pytest.fixture(scope="session")
def fake_embedder() -> Embedder:
    return FakeEmbedder()


@pytest.fixture
def app_embedder(request: pytest.FixtureRequest, fake_embedder: Embedder) -> Embedder:
    """The model the test's application embeds with: the fake, or the real one for tests
    marked ``real_model``."""
    if request.node.get_closest_marker("real_model") is not None:
        real: Embedder = request.getfixturevalue("embedder")
        return real
    return fake_embedder


@pytest_asyncio.fixture
async def app(db_pool: TransactionPool, app_embedder: Embedder) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(), embedder=app_embedder, pool=db_pool.as_pool())
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://peerconsult") as http:
        yield http


@pytest_asyncio.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the application (tests/helpers/web.py)."""
    async with browser_of(app) as http:
        yield http


@pytest_asyncio.fixture
async def second_browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(app) as http:
        yield http


@pytest_asyncio.fixture
async def mailed_browser(mailed: Mailed) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the application that sends e-mail (``mailed``)."""
    async with browser_of(mailed.app) as http:
        yield http


@pytest.fixture
def coordinator() -> dict[str, str]:
    return dict(COORDINATOR)


@pytest_asyncio.fixture
async def mailed(db_pool: TransactionPool, fake_embedder: Embedder) -> AsyncIterator[Mailed]:
    """The application sending e-mail to a real SMTP server on loopback (tests/helpers/mail.py),
    an API client of it, and the mailbox."""
    async with mailing_app(db_pool, fake_embedder) as (app, mailbox), api_client(app) as client:
        yield Mailed(app, client, mailbox)
