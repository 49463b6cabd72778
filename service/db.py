"""PostgreSQL: the embedded server, the connection pool and the migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pgvector.asyncpg import register_vector

log = logging.getLogger(__name__)

# What repositories take: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"

# Handles of embedded servers started by this process, by data directory.
_embedded: dict[Path, Any] = {}


class DatabaseUnavailable(Exception):
    """PostgreSQL does not answer (stopped, restarting, unreachable)."""


def embedded_settings(memory_bytes: int | None = None) -> dict[str, str]:
    """The server settings the embedded PostgreSQL runs with (initdb's defaults are for a
    128 MB machine).

    * ``shared_buffers``: a quarter of the memory (PostgreSQL's own advice), 128 MB to 8 GB.
      With the default 128 MB, the passage table and its HNSW index (about 400 MB at 10,000
      members) did not fit, and every question read its pages again from the operating
      system's cache: retrieval and candidate loading took 15.5 ms instead of 11.3 ms a
      question at 10,000 members, measured in one process.
    * ``jit`` off: questions are short queries, for which compiling costs more than it saves.
    * ``max_wal_size`` 4 GB instead of 1 GB: an import of 100,000 members writes 3-4 GB of
      WAL, which at 1 GB forced 9 checkpoints, each followed by full-page images of the pages
      written again: 131,276 of them (1 GB of the WAL), 23,044 after 3 checkpoints at 4 GB
      (measured on the import's writes alone). The WAL grows
      to that size only while so much is written; later checkpoints remove what is not needed.
    """
    if memory_bytes is None:
        import psutil

        memory_bytes = int(psutil.virtual_memory().total)
    megabytes = max(128, min(8192, memory_bytes // 4 // 2**20))
    return {"shared_buffers": f"{megabytes}MB", "jit": "off", "max_wal_size": "4GB"}


def _apply_settings(server: Any, settings: dict[str, str]) -> bool:
    """Write ``settings`` into the server's configuration (ALTER SYSTEM, which takes no
    parameters: the names and values are ``embedded_settings``' own); True when some take
    effect only after a restart."""
    statements = "".join(
        f"ALTER SYSTEM SET {name} = '{value}';\n" for name, value in settings.items()
    )
    # Settings that need no restart apply at once; shared_buffers is compared with what runs.
    output = server.psql(
        statements
        + "SELECT pg_reload_conf();\n"
        + "SELECT 'shared_buffers ' || CASE WHEN pg_size_bytes(current_setting('shared_buffers'))"
        + f" = pg_size_bytes('{settings['shared_buffers']}') THEN 'running' ELSE 'pending' END;\n"
    )
    return "shared_buffers running" not in output


def _embedded_server(data_dir: Path, cleanup_mode: str) -> Any:
    """The embedded server of ``data_dir``, running with ``embedded_settings``. A server
    started without them (a new data directory, or one from an older version) is restarted
    once to take them, unless other processes are using it: then they apply from its next
    start. Blocking."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    from pgserver.postgres_server import get_server

    server = get_server(data_dir, cleanup_mode=cleanup_mode)
    if not _apply_settings(server, embedded_settings()):
        return server
    if server.global_process_id_list.get() != [os.getpid()]:
        log.info("the embedded server's memory settings apply from its next start")
        return server
    # Stop without deleting (the last handle of a scratch server deletes its directory), and
    # start again with the settings.
    server.cleanup_mode = "stop"
    server.cleanup()
    return get_server(data_dir, cleanup_mode=cleanup_mode)


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and return its URL.

    Several processes may share one data directory; the server stops when the last one exits.
    Blocking: call it from a thread when an event loop is running.
    """
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _embedded.get(data_dir)
    if server is None:
        server = _embedded_server(data_dir, "stop")
        _embedded[data_dir] = server
    return str(server.get_uri())


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """``DATABASE_URL`` when set, otherwise the embedded server's URL."""
    return database_url or start_embedded(data_dir)


# How many candidates an HNSW index scan considers, and so the most rows it can return: the
# retrieval asks for DENSE_PASSAGES (service/questions/service.py) rows, so it must be at least
# that. A question in a network below 25,000 members searches less broadly
# (service/questions/service.py, SEARCH_BREADTH). `peerconsult bench` measures the recall this
# gives against exact search.
HNSW_EF_SEARCH = 250


# Every connection's settings, as startup parameters, not SETs: the pool runs RESET ALL
# whenever a connection is released, which undid a SET after a connection's first use
# (ef_search fell back to pgvector's 40, so retrieval returned at most 40 passages; found by
# `peerconsult bench`).
#
# ``plan_cache_mode``: every statement of the service is planned once for all parameters.
# Each is a lookup bounded by its parameters, so one plan serves every call, but PostgreSQL's
# own choice cannot tell that from a LIMIT given as a parameter and planned the question's
# statements anew for every question: on 10,000 synthetic members the candidate statement
# took 8.6 ms against 6.8 with one plan (150 questions), the asker's context 1.43 against
# 0.79 ms on 100,000 (200 questions).
_SERVER_SETTINGS = {
    "hnsw.ef_search": str(HNSW_EF_SEARCH),
    "plan_cache_mode": "force_generic_plan",
}
COMMAND_TIMEOUT_S = 60


async def _init_connection(conn: asyncpg.Connection) -> None:
    await register_vector(conn)


class _OneLinePerFailure(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reconnect while PostgreSQL
    is away (every connection, every retry): one line with the error's kind says the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


_pool_log_filter = _OneLinePerFailure()


async def create_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections speak pgvector; the extension must exist (migrations)."""
    logging.getLogger("asyncpg.pool").addFilter(_pool_log_filter)  # once: filters are a set
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        server_settings=_SERVER_SETTINGS,
        command_timeout=COMMAND_TIMEOUT_S,
        # Reconnect rather than keep connections PostgreSQL has dropped (restart, failover).
        max_inactive_connection_lifetime=60,
    )
    if pool is None:  # pragma: no cover - asyncpg returns a pool when not in a context
        raise DatabaseUnavailable("could not create a connection pool")
    return pool


# What a PostgreSQL server that stopped, restarts or cannot be reached raises, connecting or
# on a pooled connection it dropped: for the primary an outage (503, api/errors.py), for a
# read replica a reason to read from the primary.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    OSError,  # ConnectionError, a missing socket file, …
    TimeoutError,  # among them a pool that stays exhausted
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    # Returning a connection the server dropped in the middle of a statement: the pool's reset
    # finds the protocol still in that statement (measured: one request in 16,882 while
    # PostgreSQL was stopped under 16 clients).
    asyncpg.exceptions.InternalClientError,
)
REPLICA_DOWN: tuple[type[Exception], ...] = (
    *CONNECTION_LOST,
    # A standby that must cancel a query whose rows recovery is removing.
    asyncpg.exceptions.SerializationError,
)


# Opening the pool also fails when the replica refuses the connection for a while (starting).
_OPENING_FAILS: tuple[type[Exception], ...] = (*REPLICA_DOWN, asyncpg.PostgresError)


class ReadReplica:
    """Read-only work that may lag by a second (``PEERCONSULT_READ_DATABASE_URL``): a pool on
    a streaming replica, opened on first use. When the replica cannot be reached, ``reading``
    gives None (the caller reads from the primary) and the replica is tried again after
    ``retry_seconds``; ``failed`` is what a caller says when the replica broke mid-read."""

    def __init__(self, url: str, *, max_size: int, retry_seconds: float = 5.0) -> None:
        self.url = url
        self.max_size = max_size
        self.retry_seconds = retry_seconds
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._down_until = 0.0

    async def _pool_or_none(self) -> asyncpg.Pool | None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._down_until:
            return None
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None and loop.time() >= self._down_until:
                try:
                    async with asyncio.timeout(2):
                        self._pool = await create_pool(self.url, max_size=self.max_size)
                except _OPENING_FAILS as exc:
                    self.failed(exc)
        return self._pool

    def failed(self, exc: BaseException) -> None:
        """The replica broke: read from the primary until ``retry_seconds`` have passed."""
        log.warning(
            "read replica unavailable (%s); reading from the primary for %.0f s",
            type(exc).__name__,
            self.retry_seconds,
        )
        self._down_until = asyncio.get_running_loop().time() + self.retry_seconds

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection | None]:
        """A connection to the replica in a read-only transaction, or None when it is down."""
        pool = await self._pool_or_none()
        if pool is None:
            yield None
            return
        try:
            async with asyncio.timeout(2):
                conn = await pool.acquire()
        except REPLICA_DOWN as exc:
            self.failed(exc)
            yield None
            return
        try:
            async with conn.transaction(readonly=True):
                yield conn
        finally:
            # A connection the replica dropped is discarded by the pool.
            with contextlib.suppress(*REPLICA_DOWN):
                await pool.release(conn)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def connect(url: str) -> asyncpg.Connection:
    """One connection set up as the pool's are."""
    conn = await asyncpg.connect(
        url, server_settings=_SERVER_SETTINGS, command_timeout=COMMAND_TIMEOUT_S
    )
    await _init_connection(conn)
    return conn


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic migrations. Blocking."""
    from alembic.config import Config

    from alembic import command

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["database_url"] = _sqlalchemy_url(url)
    command.upgrade(config, revision)


async def migrate_async(url: str) -> None:
    """``migrate`` off the event loop (Alembic's async engine runs its own loop)."""
    await asyncio.to_thread(migrate, url)


@asynccontextmanager
async def scratch_database(database_url: str | None) -> AsyncIterator[str]:
    """A database that exists only for one evaluation or benchmark, removed afterwards: a
    temporary embedded server, or a temporary database on the ``database_url`` server."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="peerconsult-scratch-") as directory:
            server = await asyncio.to_thread(_embedded_server, Path(directory) / "pgdata", "delete")
            try:
                yield str(server.get_uri())
            finally:
                server.cleanup()
        return
    name = f"peerconsult_scratch_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(database_url)
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
