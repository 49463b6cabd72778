"""Importing the same file again: it changes only what the file changed since the last import,
keeps what members changed themselves, and never brings back a member who erased their
account (service/members/importer.py, import_merge.py, erasure.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest_asyncio

from api.app import create_app
from service import db
from service.embedding import Embedder
from service.members import importer
from service.members.import_merge import ImportReport, Outcome
from tests.helpers.app import COORDINATOR, make_settings
from tests.helpers.mail import api_client

ANNA = {
    "id": "a1",
    "name": "Anna Import",
    "email": "anna.import@example.org",
    "municipality": "Kassel",
    "state": "Hessen",
    "expertise": "Ich habe einen Bürgerhaushalt eingeführt.",
    "tags": ["Bürgerhaushalt"],
}
BERND = {
    "id": "b2",
    "name": "Bernd Import",
    "email": "bernd.import@example.org",
    "municipality": "Fulda",
    "state": "Hessen",
    "expertise": "Ich habe einen Bürgerrat begleitet.",
    "tags": ["Bürgerrat"],
}


@pytest_asyncio.fixture
async def db_pool(own_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of its own: an import holds one connection for its lock while it writes with
    others."""
    pool = await db.create_pool(own_database_url, max_size=3)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def client(
    db_pool: asyncpg.Pool, fake_embedder: Embedder
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), embedder=fake_embedder, pool=db_pool)
    async with app.router.lifespan_context(app), api_client(app) as http:
        yield http


async def run_import(
    pool: asyncpg.Pool, embedder: Embedder, *records: dict[str, Any]
) -> ImportReport:
    return await importer.import_members(pool, embedder, importer.validate_records(list(records)))


class TestReimport:
    async def test_a_members_own_edit_survives_a_reimport_of_the_same_file(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        first = await run_import(db_pool, fake_embedder, ANNA, BERND)
        anna_id = str(first.rows[0].member_id)
        own = "Ich berate zu Leitlinien für Bürgerbeteiligung und zum Bürgerhaushalt."
        changed = await client.patch(
            f"/v1/members/{anna_id}",
            json={"expertise": own, "tags": ["Leitlinien", "Bürgerhaushalt"]},
            headers=COORDINATOR,
        )
        assert changed.status_code == 200
        again = await run_import(db_pool, fake_embedder, ANNA, BERND)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        assert again.conflicts == []
        anna = (await client.get(f"/v1/members/{anna_id}", headers=COORDINATOR)).json()
        assert anna["expertise"] == own
        assert anna["tags"] == ["Leitlinien", "Bürgerhaushalt"]

    async def test_what_the_file_changed_is_written_and_a_clash_is_listed(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        first = await run_import(db_pool, fake_embedder, ANNA, BERND)
        anna_id, bernd_id = (str(row.member_id) for row in first.rows)
        await client.patch(
            f"/v1/members/{anna_id}", json={"role": "Stabsstelle"}, headers=COORDINATOR
        )
        fixed_anna = {**ANNA, "name": "Anna Importa", "role": "Referentin"}
        fixed_bernd = {**BERND, "municipality": "Marburg"}
        again = await run_import(db_pool, fake_embedder, fixed_anna, fixed_bernd)
        by_row = {row.row: row for row in again.rows}
        assert by_row[1].outcome == Outcome.updated
        assert by_row[1].changed == ["name"]
        assert by_row[1].conflicts == ["role"]
        assert by_row[2].changed == ["municipality"]
        anna = (await client.get(f"/v1/members/{anna_id}", headers=COORDINATOR)).json()
        assert (anna["name"], anna["role"]) == ("Anna Importa", "Stabsstelle")
        bernd = (await client.get(f"/v1/members/{bernd_id}", headers=COORDINATOR)).json()
        assert bernd["municipality"]["name"] == "Marburg"

    async def test_rows_without_an_id_are_matched_by_address(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        without_id = {key: value for key, value in ANNA.items() if key != "id"}
        first = await run_import(db_pool, fake_embedder, without_id)
        again = await run_import(
            db_pool, fake_embedder, {**without_id, "email": "ANNA.import@example.org"}
        )
        assert again.rows[0].member_id == first.rows[0].member_id
        assert again.rows[0].outcome == Outcome.unchanged

    async def test_an_erased_member_is_never_brought_back(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        first = await run_import(db_pool, fake_embedder, ANNA, BERND)
        anna_id = first.rows[0].member_id
        assert (await client.delete(f"/v1/members/{anna_id}", headers=COORDINATOR)).status_code
        again = await run_import(db_pool, fake_embedder, ANNA, BERND)
        assert [row.outcome for row in again.rows] == [Outcome.erased, Outcome.unchanged]
        assert again.created_ids == []
        without_id = {key: value for key, value in ANNA.items() if key != "id"}
        by_address = await run_import(db_pool, fake_embedder, without_id)
        assert by_address.rows[0].outcome == Outcome.erased
        stored = await db_pool.fetch("SELECT * FROM erased_identity")
        assert len(stored) == 2
        # Nothing readable is kept: no address, no name, no id.
        assert all(b"anna" not in bytes(row["key_hash"]) for row in stored)
        assert await db_pool.fetchval("SELECT count(*) FROM member") == 1

    async def test_someone_the_coordinator_adds_again_is_found_again(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        without_id = {key: value for key, value in ANNA.items() if key != "id"}
        first = await run_import(db_pool, fake_embedder, without_id)
        await client.delete(f"/v1/members/{first.rows[0].member_id}", headers=COORDINATOR)
        created = await client.post(
            "/v1/members",
            json={
                "name": "Anna Import",
                "email": "anna.import@example.org",
                "municipality": {"name": "Kassel", "state": "Hessen"},
                "expertise": "Bürgerhaushalt",
            },
            headers=COORDINATOR,
        )
        assert created.status_code == 201
        again = await run_import(db_pool, fake_embedder, without_id)
        assert again.rows[0].member_id is not None
        assert str(again.rows[0].member_id) == created.json()["id"]

    async def test_three_tags_the_member_typed_stay_three(
        self, client: httpx.AsyncClient, db_pool: asyncpg.Pool, fake_embedder: Embedder
    ) -> None:
        tags = ["Bürgerrat", "Losverfahren", "Zufallsauswahl"]
        first = await run_import(db_pool, fake_embedder, {**ANNA, "tags": tags})
        anna_id = first.rows[0].member_id
        anna = (await client.get(f"/v1/members/{anna_id}", headers=COORDINATOR)).json()
        assert anna["tags"] == tags
        replaced = await client.put(
            f"/v1/members/{anna_id}/tags", json={"tags": tags}, headers=COORDINATOR
        )
        assert replaced.json()["tags"] == tags
        vocabulary = (await client.get("/v1/tags", headers=COORDINATOR)).json()
        # For counting they are one topic: the member counts once.
        assert sorted(entry["count"] for entry in vocabulary) == [1, 1]
