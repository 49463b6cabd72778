"""Backup and restore as an operator runs them: `peerconsult backup` while the service serves
the network, `peerconsult restore` into a new data directory, and the network working there as
before; a restore over a network is refused unless it is to replace it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from service import db
from service.embedding import Embedder
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite
from tests.helpers.app import COORDINATOR, make_settings
from tests.helpers.processes import run_cli


async def test_a_backup_taken_while_serving_restores_into_a_new_installation(
    own_database_url: str, fake_embedder: Embedder, tmp_path: Path
) -> None:
    source = create_app(make_settings(own_database_url), embedder=fake_embedder)
    backup = tmp_path / "netz.backup"
    async with source.router.lifespan_context(source):
        transport = httpx.ASGITransport(app=source)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            asker = await create_member(client, name="Anna Asker", municipality="Aachen")
            expert = await create_member(
                client, name="Bernd Berater", municipality="Bonn", expertise=EXPERTISE
            )
            question = await ask(client, asker, **QUESTION)
            invited = await invite(client, asker, question, expert.id)
            assert invited.status_code == 201
            stored = (
                await client.get(f"/v1/questions/{question['id']}", headers=asker.headers)
            ).json()
            # Taken while the service serves (and writes): pg_dump reads one snapshot.
            taking = asyncio.create_task(
                asyncio.to_thread(
                    run_cli, "backup", str(backup), env={"DATABASE_URL": own_database_url}
                )
            )
            while not taking.done():
                await client.get("/v1/members/me", headers=asker.headers)
                await asyncio.sleep(0.05)
            taken = taking.result()
    assert taken.returncode == 0, taken.stderr
    assert "2 members, 1 questions, 1 requests" in " ".join(taken.stderr.split())

    data_dir = tmp_path / "neu"
    env = {"PEERCONSULT_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    restored = run_cli("restore", str(backup), env=env)
    assert restored.returncode == 0, restored.stderr
    said = " ".join(restored.stderr.split())
    assert "Restored 2 members, 1 questions and 1 requests" in said
    # The fake model of the tests is not the configured one: the restore says so.
    assert "embedded with test-trigrams" in said and "peerconsult reindex" in said

    url = await asyncio.to_thread(db.start_embedded, data_dir)
    target = create_app(make_settings(url), embedder=fake_embedder)
    async with target.router.lifespan_context(target):
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            me = await client.get("/v1/members/me", headers=asker.headers)
            assert me.status_code == 200 and me.json()["name"] == "Anna Asker"
            kept = await client.get(f"/v1/questions/{question['id']}", headers=asker.headers)
            assert kept.status_code == 200
            assert kept.json() == stored
            fresh = await client.get(
                f"/v1/questions/{question['id']}/suggestions", headers=asker.headers
            )
            assert expert.id in [s["member"]["id"] for s in fresh.json()["suggestions"]]
            incoming = await client.get("/v1/requests?direction=incoming", headers=expert.headers)
            assert [r["question_id"] for r in incoming.json()] == [question["id"]]
            profile = await client.get(f"/v1/members/{expert.id}", headers=COORDINATOR)
            assert profile.json()["email"] == expert.body["email"]

    again = run_cli("restore", str(backup), env=env)
    assert again.returncode == 1
    assert "already holds a network (2 members)" in " ".join(again.stderr.split())
    replaced = run_cli("restore", str(backup), "--replace", env=env)
    assert replaced.returncode == 0, replaced.stderr


@pytest.mark.parametrize("content", [b"", b"not a backup\n"])
def test_a_file_that_is_no_backup_changes_nothing(
    own_database_url: str, tmp_path: Path, content: bytes
) -> None:
    broken = tmp_path / "kaputt.backup"
    broken.write_bytes(content)
    result = run_cli("restore", str(broken), env={"DATABASE_URL": own_database_url})
    assert result.returncode == 1
    assert "is not a peerconsult backup" in " ".join(result.stderr.split())
