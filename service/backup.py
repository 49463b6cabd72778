"""Backups and restores of the whole network with PostgreSQL's own tools.

A backup is ``pg_dump`` in its custom format: one consistent snapshot of the database while the
service keeps running (pg_dump reads in one transaction), compressed, restorable with
``pg_restore``. The tools come from the embedded server's installation (pgserver ships
PostgreSQL 16 with them), or, for a server given by ``DATABASE_URL``, from ``PEERCONSULT_PG_BIN``
or the PATH, whichever is at least as new as the server.

A restore goes into an installation that holds no network yet (a new data directory or an
empty database); over one that does, only when asked to replace it. Afterwards the schema is
brought up to date, so a backup of an older version restores into a newer one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from service import db


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Network:
    """What a database holds, as a restore reports it."""

    members: int
    questions: int
    requests: int
    models: tuple[str, ...]


def _candidate_directories() -> list[Path]:
    directories = []
    configured = os.environ.get("PEERCONSULT_PG_BIN")
    if configured:
        directories.append(Path(configured))
    try:
        import pgserver

        directories.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        directories.append(Path(on_path).parent)
    return directories


def _major_version(tool: Path) -> int | None:
    try:
        said = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", said)
    return int(found.group(1)) if found else None


def tool(name: str, server_major: int) -> Path:
    """PostgreSQL's ``name`` (pg_dump, pg_restore, …) at least as new as the server."""
    seen = []
    for directory in _candidate_directories():
        path = directory / name
        if not path.exists():
            continue
        major = _major_version(path)
        seen.append(f"{path} ({major})")
        if major is not None and major >= server_major:
            return path
    raise BackupError(
        f"No {name} for PostgreSQL {server_major} or newer (found: {', '.join(seen) or 'none'}). "
        "Install the client tools matching the server (e.g. postgresql-client-"
        f"{server_major}) or set PEERCONSULT_PG_BIN to their directory."
    )


async def _connect(url: str) -> asyncpg.Connection:
    """A plain connection (the database may not have the vector extension yet)."""
    return await asyncpg.connect(url, command_timeout=db.COMMAND_TIMEOUT_S)


async def server_major(url: str) -> int:
    conn = await _connect(url)
    try:
        number: int = await conn.fetchval("SELECT current_setting('server_version_num')::int")
    finally:
        await conn.close()
    return number // 10000


async def describe(url: str) -> Network | None:
    """What the database holds, or None when it holds no network (no schema, or no member)."""
    conn = await _connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('public.member') IS NULL"):
            return None
        members = await conn.fetchval("SELECT count(*) FROM member")
        if not members:
            return None
        return Network(
            members=members,
            questions=await conn.fetchval("SELECT count(*) FROM question"),
            requests=await conn.fetchval("SELECT count(*) FROM consultation_request"),
            models=tuple(
                record["model"]
                for record in await conn.fetch("SELECT DISTINCT model FROM passage ORDER BY model")
            ),
        )
    finally:
        await conn.close()


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()][-5:]
        raise BackupError(f"{what} failed: " + " ".join(lines))


async def backup(url: str, file: Path) -> Network | None:
    """Write a consistent backup of the database to ``file`` (replaced only once the new one
    is complete); what it holds."""
    dump = tool("pg_dump", await server_major(url))
    held = await describe(url)
    partial = file.with_name(file.name + ".partial")
    try:
        _run(
            [str(dump), "--format=custom", "--no-owner", "--no-privileges",
             f"--file={partial}", f"--dbname={url}"],
            "pg_dump",
        )  # fmt: skip
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    return held


def check_file(file: Path, server_major_version: int) -> None:
    """That ``file`` is a backup pg_restore can read (before anything is changed)."""
    lister = tool("pg_restore", server_major_version)
    done = subprocess.run([str(lister), "--list", str(file)], capture_output=True, text=True)
    if done.returncode != 0 or "TABLE public member" not in done.stdout:
        raise BackupError(f"{file} is not a peerconsult backup (pg_restore cannot read it).")


async def _empty_schema(url: str) -> None:
    """Drop everything in the public schema (a network being replaced, or the empty tables of
    a service started once)."""
    conn = await _connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE")
        await conn.execute("CREATE SCHEMA public")
    finally:
        await conn.close()


async def restore(url: str, file: Path, *, replace: bool = False) -> Network:
    """Restore ``file`` into the database at ``url``, which must hold no network unless
    ``replace``; the schema is then migrated to this version. What it holds afterwards."""
    major = await server_major(url)
    check_file(file, major)
    held = await describe(url)
    if held is not None and not replace:
        raise BackupError(
            f"This database already holds a network ({held.members} members). Restore into a "
            "new data directory or an empty database, or give --replace to overwrite it."
        )
    await _empty_schema(url)
    _run(
        [str(tool("pg_restore", major)), "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={url}", str(file)],
        "pg_restore",
    )  # fmt: skip
    await db.migrate_async(url)
    restored = await describe(url)
    if restored is None:
        raise BackupError(f"{file} holds no members; nothing to restore.")
    return restored
