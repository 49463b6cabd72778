"""Who may call what: every route of the app × {anonymous, member, another member, coordinator}.

The table is checked against the app's route table, so a new route cannot be forgotten: add
it here with its expected statuses. "member" is the legitimate actor of the route (the
profile's owner, the asker, the invited colleague); "other" is an unrelated member of a third
municipality. Each call runs on a network that no earlier successful call has changed, so the
order of calls does not matter.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.helpers.api import EXPERTISE, QUESTION, CreatedMember, ask, create_member
from tests.helpers.app import ADMIN_TOKEN

ROLES = ("anonymous", "member", "other", "coordinator")
_worlds = itertools.count(1)


@dataclass
class World:
    asker: CreatedMember
    peer: CreatedMember
    spare: CreatedMember
    other: CreatedMember
    question: dict[str, Any]
    request: dict[str, Any]


async def build_world(client: httpx.AsyncClient, *, accepted: bool = False) -> World:
    n = next(_worlds)
    asker = await create_member(client, municipality=f"Fragestadt {n}")
    peer = await create_member(client, municipality=f"Antwortstadt {n}", expertise=EXPERTISE)
    spare = await create_member(client, municipality=f"Reservestadt {n}", expertise=EXPERTISE)
    other = await create_member(client, municipality=f"Drittstadt {n}")
    question = await ask(client, asker, **QUESTION)
    response = await client.post(
        f"/v1/questions/{question['id']}/requests",
        json={"member_ids": [peer.id]},
        headers=asker.headers,
    )
    request = response.json()[0]
    if accepted:
        await client.post(f"/v1/requests/{request['id']}/accept", headers=peer.headers)
    return World(asker, peer, spare, other, question, request)


@dataclass(frozen=True)
class Case:
    """How to call a route in a world, who its legitimate actor is, what each role gets."""

    path: str
    actor: str  # attribute of World
    expected: tuple[int, int, int, int]  # anonymous, member, other, coordinator
    body: dict[str, Any] | None = None
    accepted: bool = False


NEW_MEMBER = {
    "name": "Neu",
    "email": "neu-{n}@example.org",
    "municipality": {"name": "Neustadt", "state": "Sachsen"},
    "expertise": "Ich berate zur Beteiligung.",
}

CASES: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case("/healthz", "asker", (200, 200, 200, 200)),
    ("POST", "/v1/members"): Case("/v1/members", "asker", (401, 403, 403, 201), NEW_MEMBER),
    ("GET", "/v1/members/me"): Case("/v1/members/me", "asker", (401, 200, 200, 403)),
    ("GET", "/v1/members/{member_id}"): Case("/v1/members/{asker}", "asker", (401, 200, 200, 200)),
    ("PATCH", "/v1/members/{member_id}"): Case(
        "/v1/members/{asker}", "asker", (401, 200, 403, 200), {"role": "Neue Rolle"}
    ),
    ("DELETE", "/v1/members/{member_id}"): Case(
        "/v1/members/{asker}", "asker", (401, 204, 403, 204)
    ),
    ("PUT", "/v1/members/{member_id}/tags"): Case(
        "/v1/members/{asker}/tags", "asker", (401, 200, 403, 200), {"tags": ["Neu"]}
    ),
    ("GET", "/v1/members/{member_id}/export"): Case(
        "/v1/members/{asker}/export", "asker", (401, 200, 403, 200)
    ),
    ("POST", "/v1/members/{member_id}/token"): Case(
        "/v1/members/{asker}/token", "asker", (401, 200, 403, 200)
    ),
    ("GET", "/v1/tags"): Case("/v1/tags", "asker", (401, 200, 200, 200)),
    ("POST", "/v1/questions"): Case("/v1/questions", "asker", (401, 201, 201, 403), QUESTION),
    ("GET", "/v1/questions/{question_id}"): Case(
        "/v1/questions/{question}", "asker", (401, 200, 403, 200)
    ),
    ("GET", "/v1/questions/{question_id}/suggestions"): Case(
        "/v1/questions/{question}/suggestions", "asker", (401, 200, 403, 200)
    ),
    ("POST", "/v1/questions/{question_id}/requests"): Case(
        "/v1/questions/{question}/requests",
        "asker",
        (401, 201, 403, 403),
        {"member_ids": ["{spare}"]},
    ),
    ("GET", "/v1/requests"): Case("/v1/requests", "peer", (401, 200, 200, 403)),
    ("GET", "/v1/requests/{request_id}"): Case(
        "/v1/requests/{request}", "peer", (401, 200, 403, 200)
    ),
    ("POST", "/v1/requests/{request_id}/accept"): Case(
        "/v1/requests/{request}/accept", "peer", (401, 200, 403, 403)
    ),
    ("POST", "/v1/requests/{request_id}/decline"): Case(
        "/v1/requests/{request}/decline", "peer", (401, 200, 403, 403)
    ),
    ("POST", "/v1/requests/{request_id}/withdraw"): Case(
        "/v1/requests/{request}/withdraw", "asker", (401, 200, 403, 403)
    ),
    ("POST", "/v1/requests/{request_id}/feedback"): Case(
        "/v1/requests/{request}/feedback",
        "asker",
        (401, 201, 403, 403),
        {"helpful": 4},
        accepted=True,
    ),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, from the OpenAPI description FastAPI derives from
    its route table (this project hides no route from it)."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def fill(value: Any, world: World, n: int) -> Any:
    replacements = {
        "{asker}": world.asker.id,
        "{spare}": world.spare.id,
        "{question}": world.question["id"],
        "{request}": world.request["id"],
        "{n}": str(n),
    }
    if isinstance(value, str):
        for placeholder, replacement in replacements.items():
            value = value.replace(placeholder, replacement)
        return value
    if isinstance(value, list):
        return [fill(item, world, n) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, world, n) for key, item in value.items()}
    return value


class TestAuthorizationMatrix:
    def test_every_route_has_expectations(self, app: FastAPI) -> None:
        assert app_routes(app) == set(CASES), "add new routes to CASES with their statuses"

    async def test_every_route_for_every_role(self, client: httpx.AsyncClient) -> None:
        failures = []
        for (method, template), case in CASES.items():
            world: World | None = None
            for role, expected in zip(ROLES, case.expected, strict=True):
                # A refused call changes nothing (its transaction rolls back), so the network is
                # rebuilt only after a call that succeeded.
                if world is None:
                    world = await build_world(client, accepted=case.accepted)
                n = next(_worlds)
                headers = {
                    "anonymous": {},
                    "member": getattr(world, case.actor).headers,
                    "other": world.other.headers,
                    "coordinator": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
                }[role]
                response = await client.request(
                    method,
                    fill(case.path, world, n),
                    headers=headers,
                    json=fill(case.body, world, n) if case.body is not None else None,
                )
                if response.is_success:
                    world = None
                if response.status_code != expected:
                    failures.append(
                        f"{method} {template} as {role}: {response.status_code} != {expected} "
                        f"({response.text[:120]})"
                    )
        assert not failures, "\n".join(failures)
