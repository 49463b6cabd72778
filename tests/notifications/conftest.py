"""Fixtures: a real SMTP server on loopback (tests/helpers/smtp.py), and a real pool: senders
claim messages from several connections at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from service import db
from tests.helpers.processes import free_port
from tests.helpers.smtp import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest_asyncio.fixture
async def pool(own_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await db.create_pool(own_database_url, max_size=4)
    yield created
    await created.close()
