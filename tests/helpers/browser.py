"""Debian's Chromium, driven by Playwright, for the end-to-end tests.

``require_chromium()`` at the top of a module skips it, with the reason shown, where
/usr/bin/chromium or the playwright package is missing (the browser download of
``playwright install`` is not used).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the machine
        pytest.skip(
            "end-to-end browser tests need the playwright package (pip install playwright)",
            allow_module_level=True,
        )
    if not CHROMIUM.exists():
        pytest.skip(
            f"end-to-end browser tests need Chromium at {CHROMIUM} (apt-get install chromium)",
            allow_module_level=True,
        )


@asynccontextmanager
async def chromium(*extra_args: str) -> AsyncIterator[Browser]:
    """A headless Chromium, with ``extra_args`` on its command line."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            await browser.close()
