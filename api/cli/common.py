"""What the commands share: the console they speak on, the settings, the database pool, the
embedding model, progress bars."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service import db
from service.config import Settings
from service.embedding import Embedder, load_embedder

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def read_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            console.print(f"[red]configuration error:[/red] {message}", soft_wrap=True)
        raise typer.Exit(2) from None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def database_url(settings: Settings) -> str:
    return db.resolve_database_url(settings.database_url, settings.data_dir)


async def with_pool(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    url = database_url(settings)
    await db.migrate_async(url)
    pool = await db.create_pool(url, max_size=4)
    try:
        return await work(pool)
    finally:
        await pool.close()


def load_model(settings: Settings) -> Embedder:
    with console.status(f"loading the embedding model {settings.embedding_model} …"):
        return load_embedder(settings.embedding_model)


def exit_on_sigterm() -> None:
    """Leave through the normal exit path on SIGTERM (kill, a service manager, a CI timeout), as
    on Ctrl-C, so the embedded PostgreSQL this process started is stopped (and a scratch
    server deleted): the default action ends the process without running exit handlers."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
