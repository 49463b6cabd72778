"""Fixtures of the web interface tests: browser-like clients (tests/helpers/web.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from tests.helpers.web import browser_of


@pytest_asyncio.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(app) as http:
        yield http


@pytest_asyncio.fixture
async def second_browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_of(app) as http:
        yield http
