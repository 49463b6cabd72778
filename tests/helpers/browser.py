"""Debian's Chromium, driven by Playwright, for the end-to-end tests.

``require_chromium()`` at the top of a module skips it, with the reason shown, where
/usr/bin/chromium or the playwright package is missing (the browser download of
``playwright install`` is not used); with ``PEERCONSULT_BROWSER_TESTS=required`` (as CI sets
it) a missing browser fails the module instead, so the browser tests never silently skip.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from fastapi import FastAPI

from tests.helpers.processes import free_port

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

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


REQUIRED = "PEERCONSULT_BROWSER_TESTS"


def require_chromium() -> None:
    missing = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the machine
        missing = "end-to-end browser tests need the playwright package (pip install playwright)"
    if missing is None and not CHROMIUM.exists():
        missing = f"end-to-end browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing is None:
        return
    if os.environ.get(REQUIRED) == "required":
        pytest.fail(f"{missing}; {REQUIRED}=required", pytrace=False)
    pytest.skip(missing, allow_module_level=True)


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


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by Uvicorn in a thread on a free port of 127.0.0.1; its address."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    for _ in range(300):
        if instance.started or not thread.is_alive():
            break
        threading.Event().wait(0.05)
    assert instance.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=15)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core (WCAG 2.1 A and AA rules and best practices) finds wrong on the page."""
    from axe_playwright_python.base import AXE_SCRIPT

    await page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations as lines a person can act on: rule, impact, the first elements."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in violations
    )


async def scrolls_sideways(page: Page) -> bool:
    """Whether the page as a whole is wider than the window (a table may scroll in a box of
    its own, with a visible cue; the page may not)."""
    wider: bool = await page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )
    return wider


async def boxes_scrolling_sideways(page: Page) -> list[str]:
    """The tables' boxes that are narrower than their table, so part of it is out of sight
    (a desktop window should show every column, the row's actions among them)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
              .filter(box => box.scrollWidth > box.clientWidth + 1)
              .map(box => (box.querySelector('caption') || box).textContent.trim().slice(0, 60))"""
    )
    return found
