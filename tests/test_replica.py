"""Reads from a real streaming replica (PEERCONSULT_READ_DATABASE_URL), made with PostgreSQL's
own pg_basebackup -R from the embedded server's binaries: candidate retrieval reads there (it
may lag), a member the replica does not know yet is read from the primary, and when the
replica stops under load every question is still answered, from the primary, until the
replica is back."""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from service import db
from service.backup import tool
from service.embedding import Embedder
from tests.helpers.api import CreatedMember, create_member
from tests.helpers.app import make_settings

SYSTEM_USER = "pgserver"  # the user pgserver runs PostgreSQL as when the tests run as root


def as_server_user(command: list[str]) -> subprocess.CompletedProcess[str]:
    user = SYSTEM_USER if os.geteuid() == 0 else None
    return subprocess.run(command, user=user, capture_output=True, text=True, timeout=120)


@dataclass(frozen=True)
class Pair:
    primary_url: str
    replica_url: str
    replica_dir: Path

    def stop_replica(self) -> None:
        done = as_server_user(
            [str(tool("pg_ctl", 16)), "-D", str(self.replica_dir), "-m", "immediate", "stop"]
        )
        assert done.returncode == 0, done.stderr

    def start_replica(self) -> None:
        done = as_server_user(
            [str(tool("pg_ctl", 16)), "-D", str(self.replica_dir), "-w",
             "-o", '-h ""', "-o", f"-k {self.replica_dir}",
             "-l", str(self.replica_dir / "log"), "start"]
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + (self.replica_dir / "log").read_text()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """A primary (an embedded server of its own, migrated) and its streaming replica."""
    from pgserver.postgres_server import get_server

    primary = get_server(tmp_path / "primary", cleanup_mode="delete")
    primary_url = str(primary.get_uri())
    db.migrate(primary_url)
    replica_dir = tmp_path / "replica"
    replica_dir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        account = pwd.getpwnam(SYSTEM_USER)
        os.chown(replica_dir, account.pw_uid, account.pw_gid)
    copied = as_server_user(
        [str(tool("pg_basebackup", 16)), "-D", str(replica_dir), "-R", "-X", "stream",
         "--checkpoint=fast", "-d", primary_url]
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    # The copy holds the primary's socket lock (pgserver keeps its socket in the data
    # directory) and its log; the replica has a socket and a log of its own.
    for copied_file in (".s.PGSQL.5432.lock", "log"):
        (replica_dir / copied_file).unlink(missing_ok=True)
    replica_url = f"postgresql://postgres:@/postgres?host={replica_dir}"
    pair = Pair(primary_url, replica_url, replica_dir)
    pair.start_replica()
    try:
        yield pair
    finally:
        as_server_user([str(tool("pg_ctl", 16)), "-D", str(replica_dir), "-m", "immediate", "stop"])
        primary.cleanup()


@pytest_asyncio.fixture
async def client(pair: Pair, fake_embedder: Embedder) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(pair.primary_url, read_database_url=pair.replica_url)
    app = create_app(settings, embedder=fake_embedder)
    async with app.router.lifespan_context(app):
        app.state.replica.retry_seconds = 1.0
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as http:
            yield http


async def on_replica(pair: Pair, statement: str) -> object:
    conn = await asyncpg.connect(pair.replica_url)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def replicated(pair: Pair, members: int) -> None:
    for _ in range(200):
        if await on_replica(pair, "SELECT count(*) FROM member") == members:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the replica did not reach {members} members")


async def suggested(client: httpx.AsyncClient, asker: CreatedMember, body: str) -> list[str]:
    response = await client.post(
        "/v1/questions", json={"title": "Windpark", "body": body}, headers=asker.headers
    )
    assert response.status_code == 201, response.text
    return [suggestion["member"]["name"] for suggestion in response.json()["suggestions"]]


WIND = "Ich habe einen Windpark mit Pachteinnahmen für Vereine begleitet."
QUESTION = "Wer hat einen Windpark mit Pachteinnahmen für die Vereine begleitet?"


async def test_retrieval_reads_the_replica_and_falls_back_to_the_primary(
    pair: Pair, client: httpx.AsyncClient
) -> None:
    asker = await create_member(client, name="Anna Asker", municipality="Aachen")
    await create_member(client, name="Bernd Berater", municipality="Bonn")
    await replicated(pair, 2)

    # While the replica replays nothing, a new colleague exists only on the primary: the
    # candidates come from the replica, so she is not suggested yet.
    await on_replica(pair, "SELECT pg_wal_replay_pause()")
    await create_member(client, name="Wiebke Wind", municipality="Wittmund", expertise=WIND)
    assert "Wiebke Wind" not in await suggested(client, asker, QUESTION)
    # A member the replica does not know yet asks: read from the primary.
    newcomer = await create_member(client, name="Neu Ling", municipality="Neustadt")
    assert "Wiebke Wind" in await suggested(client, newcomer, QUESTION)
    await on_replica(pair, "SELECT pg_wal_replay_resume()")
    await replicated(pair, 4)
    assert "Wiebke Wind" in await suggested(client, asker, QUESTION)


async def test_the_replica_stopping_under_load_costs_no_answer(
    pair: Pair, client: httpx.AsyncClient
) -> None:
    asker = await create_member(client, name="Anna Asker", municipality="Aachen")
    await create_member(client, name="Wiebke Wind", municipality="Wittmund", expertise=WIND)
    await replicated(pair, 2)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def keep_asking() -> None:
        while not stop.is_set():
            response = await client.post(
                "/v1/questions", json={"title": "Windpark", "body": QUESTION}, headers=asker.headers
            )
            statuses.append(response.status_code)

    askers = [asyncio.create_task(keep_asking()) for _ in range(16)]
    await asyncio.sleep(0.5)
    await asyncio.to_thread(pair.stop_replica)
    await asyncio.sleep(1.5)
    await asyncio.to_thread(pair.start_replica)
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*askers)
    assert len(statuses) > 32
    assert set(statuses) == {201}

    # Back in use: with replay paused, a colleague added now is not suggested.
    await on_replica(pair, "SELECT pg_wal_replay_pause()")
    await create_member(client, name="Karl Neu", municipality="Kiel", expertise=WIND)
    await asyncio.sleep(1.1)  # the replica's retry pause after the failure
    names = await suggested(client, asker, QUESTION)
    assert "Wiebke Wind" in names and "Karl Neu" not in names
    await on_replica(pair, "SELECT pg_wal_replay_resume()")
