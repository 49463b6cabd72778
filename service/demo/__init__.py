"""A small fictional demo network (24 members in 20 real municipalities), loaded by
``peerconsult serve --demo`` into an empty database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

from service import identity
from service.embedding import Embedder
from service.identity import tokens
from service.members import import_repository, importer
from service.members import repository as members_repository


@dataclass(frozen=True, slots=True)
class DemoMember:
    """The demo member whose token is printed, and a question they could ask."""

    id: str
    name: str
    municipality: str
    token: str
    example_question: dict[str, Any]


def demo_network() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("service.demo").joinpath("network.json").read_text(encoding="utf-8")
    )
    return data


async def load_if_empty(pool: asyncpg.Pool, embedder: Embedder) -> int:
    """Load the demo members when the network has none; returns how many were loaded."""
    async with pool.acquire() as conn:
        if await members_repository.member_count(conn) > 0:
            return 0
    members = importer.validate_records(demo_network()["members"])
    report = await importer.import_members(pool, embedder, members)
    return report.created


async def demo_member(pool: asyncpg.Pool) -> DemoMember | None:
    """A fresh token for the demo asker (tokens are stored only as hashes, so a token can only
    be shown by issuing a new one)."""
    network = demo_network()
    question = network["questions"][0]
    async with pool.acquire() as conn, conn.transaction():
        member_id = await import_repository.member_id_for_external_id(conn, question["asker_id"])
        if member_id is None:
            return None
        member = await members_repository.get_member(conn, member_id)
        assert member is not None
        token = await tokens.rotate(conn, identity.COORDINATOR, member_id)
    example = {key: question[key] for key in ("title", "body", "tags")}
    return DemoMember(
        id=str(member_id),
        name=member.name,
        municipality=member.municipality.name,
        token=token,
        example_question=example,
    )
