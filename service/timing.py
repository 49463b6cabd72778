"""Where a request's time goes: named stages, reported in the ``Server-Timing`` header and in
the access log (``api/access_log.py``), so an operator or ``peerconsult bench`` can tell which
part of answering a question grew, without a profiler.

The access log starts a ``Stages`` for each request; code that wants a stage measured wraps it
in ``stage(name)``. Outside a request (the CLI, tests, the evaluation) nothing is recorded."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TypeVar

T = TypeVar("T")

_current: ContextVar[Stages | None] = ContextVar("peerconsult_stages", default=None)


class Stages:
    """The stages measured during one request, in the order they ended. Stages may overlap (the
    question is embedded while its asker's context is read); a stage entered twice is summed."""

    def __init__(self) -> None:
        self._milliseconds: dict[str, float] = {}

    def add(self, name: str, milliseconds: float) -> None:
        self._milliseconds[name] = self._milliseconds.get(name, 0.0) + milliseconds

    def __bool__(self) -> bool:
        """Whether any stage was measured (most requests measure none)."""
        return bool(self._milliseconds)

    def items(self) -> list[tuple[str, float]]:
        """(stage, milliseconds), in the order the stages ended."""
        return list(self._milliseconds.items())

    def header(self) -> str:
        """The ``Server-Timing`` header's value (W3C Server Timing: ``name;dur=milliseconds``)."""
        return ", ".join(f"{name};dur={ms:.2f}" for name, ms in self._milliseconds.items())

    def summary(self) -> str:
        """The stages for a log line: ``context 3.1, embed 2.4``."""
        return ", ".join(f"{name} {ms:.1f}" for name, ms in self._milliseconds.items())


def start() -> tuple[Stages, Token[Stages | None]]:
    """Begin recording a request's stages; ``finish`` with the token when it is answered."""
    stages = Stages()
    return stages, _current.set(stages)


def finish(token: Token[Stages | None]) -> None:
    _current.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Measure the enclosed block as stage ``name`` of the current request, if there is one."""
    stages = _current.get()
    if stages is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        stages.add(name, (time.perf_counter() - started) * 1000)


async def timed(name: str, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` as stage ``name`` (for stages that run side by side in a gather)."""
    with stage(name):
        return await awaitable


_ENTRY = re.compile(r"\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:;(.*))?")
_DURATION = re.compile(r"(?:^|;)\s*dur\s*=\s*\"?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\"?")


def parse_header(value: str) -> dict[str, float]:
    """The stages of a ``Server-Timing`` header, name to milliseconds (entries without a
    duration are left out)."""
    parsed: dict[str, float] = {}
    for entry in value.split(","):
        match = _ENTRY.fullmatch(entry)
        if match is None or match.group(2) is None:
            continue
        duration = _DURATION.search(match.group(2))
        if duration is not None:
            parsed[match.group(1)] = float(duration.group(1))
    return parsed
