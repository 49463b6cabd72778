"""Plain async factories with keyword defaults: members are created through the API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN

_counter = itertools.count(1)


@dataclass(frozen=True)
class CreatedMember:
    id: str
    token: str
    body: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def member_payload(
    *,
    name: str | None = None,
    email: str | None = None,
    municipality: str = "Musterstadt",
    state: str = "Hessen",
    kind: str | None = "Mittelstadt",
    role: str = "Beteiligungsbeauftragte",
    expertise: str = "Ich habe Leitlinien für Bürgerbeteiligung mit dem Stadtrat erarbeitet.",
    tags: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    number = next(_counter)
    return {
        "name": name or f"Mitglied {number}",
        "email": email or f"mitglied{number}@example.org",
        "municipality": {"name": municipality, "state": state, "kind": kind},
        "role": role,
        "expertise": expertise,
        "tags": tags if tags is not None else ["Leitlinien"],
        **extra,
    }


async def create_member(client: httpx.AsyncClient, **fields: Any) -> CreatedMember:
    response = await client.post(
        "/v1/members",
        json=member_payload(**fields),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return CreatedMember(id=body["id"], token=body["token"], body=body)


async def ask(
    client: httpx.AsyncClient, asker: CreatedMember, *, title: str, body: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/questions", json={"title": title, "body": body, **extra}, headers=asker.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
