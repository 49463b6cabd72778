"""Plain async factories with keyword defaults: members, questions and invitations are made
through the HTTP API, as a client makes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from tests.helpers.app import COORDINATOR

PROBLEM = "application/problem+json"

# A colleague who has done what QUESTION asks about.
EXPERTISE = (
    "Ich habe einen Bürgerrat mit ausgelosten Einwohnerinnen und Einwohnern organisiert und "
    "die Empfehlungen in den Gemeinderat eingebracht."
)
QUESTION = {"title": "Bürgerrat per Los", "body": "Wie habt ihr einen Bürgerrat ausgelost?"}

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
    response = await client.post("/v1/members", json=member_payload(**fields), headers=COORDINATOR)
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


async def invite(
    client: httpx.AsyncClient, asker: CreatedMember, question: dict[str, Any], *ids: str
) -> httpx.Response:
    return await client.post(
        f"/v1/questions/{question['id']}/requests",
        json={"member_ids": list(ids), "message": "Hättest du Zeit für ein Gespräch?"},
        headers=asker.headers,
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    """The response is problem+json (RFC 9457) with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status"} <= body.keys()
    return body


def application_payload(
    *, name: str | None = None, email: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The body of ``POST /v1/applications``: a member's profile, and the consent."""
    profile = member_payload(name=name, email=email)
    return {**profile, "message": "Ich würde gern mitmachen.", "consent": True, **extra}
