"""Who may call what: every route of the app × {anonymous, member, another member, coordinator}.

The table is checked against the app's route table, so a new route cannot be forgotten: add
it here with its expected statuses. "member" is the legitimate actor of the route (the
profile's owner, the asker, the invited colleague); "other" is an unrelated member of a third
municipality. Each call runs on a network that no earlier successful call has changed, so the
order of calls does not matter. The app sends e-mail (to a real SMTP server on loopback), so
the routes that exist to send some answer as in use; its throttle is out of the way.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from service.embedding import Embedder
from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    CreatedMember,
    application_payload,
    ask,
    create_member,
)
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.database import TransactionPool
from tests.helpers.mail import api_client, confirmed_application, mailing_app

ROLES = ("anonymous", "member", "other", "coordinator")
_worlds = itertools.count(1)


@pytest_asyncio.fixture
async def client(
    db_pool: TransactionPool, fake_embedder: Embedder
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that sends e-mail (the routes that mail answer 503 otherwise) and
    never throttles (every case makes failed attempts on purpose)."""
    async with (
        mailing_app(db_pool, fake_embedder, auth_failure_limit=10_000) as (app, _),
        api_client(app) as http,
    ):
        yield http


@dataclass
class World:
    asker: CreatedMember
    peer: CreatedMember
    spare: CreatedMember
    other: CreatedMember
    question: dict[str, Any]
    request: dict[str, Any]
    application: str | None


async def build_world(
    client: httpx.AsyncClient,
    pool: TransactionPool,
    *,
    accepted: bool = False,
    application: bool = False,
) -> World:
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
    applied = await confirmed_application(client, pool) if application else None
    return World(asker, peer, spare, other, question, request, applied)


@dataclass(frozen=True)
class Case:
    """How to call a route in a world, who its legitimate actor is, what each role gets."""

    path: str
    actor: str  # attribute of World
    expected: tuple[int, int, int, int]  # anonymous, member, other, coordinator
    body: dict[str, Any] | None = None
    accepted: bool = False
    application: bool = False


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
    ("PATCH", "/v1/questions/{question_id}"): Case(
        "/v1/questions/{question}", "asker", (401, 200, 403, 403), {"open": True}
    ),
    ("GET", "/v1/questions/open"): Case("/v1/questions/open", "asker", (401, 200, 200, 403)),
    # The world's question is not open: the asker may not offer on their own (422), another
    # member may not offer on a closed question (409).
    ("POST", "/v1/questions/{question_id}/offers"): Case(
        "/v1/questions/{question}/offers", "asker", (401, 422, 409, 403), {"message": "Gern."}
    ),
    ("POST", "/v1/digests"): Case("/v1/digests", "asker", (401, 403, 403, 202), {}),
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
    ("PUT", "/v1/questions/{question_id}/outcome"): Case(
        "/v1/questions/{question}/outcome",
        "asker",
        (401, 200, 403, 403),
        {"text": "Wir haben eine Vorhabenliste eingeführt.", "shared": False},
        accepted=True,
    ),
    # The world's question has no outcome recorded: nobody finds one.
    ("GET", "/v1/questions/{question_id}/outcome"): Case(
        "/v1/questions/{question}/outcome", "asker", (401, 404, 404, 404), accepted=True
    ),
    ("PUT", "/v1/requests/{request_id}/named"): Case(
        "/v1/requests/{request}/named",
        "peer",
        (401, 200, 403, 403),
        {"named": True},
        accepted=True,
    ),
    ("GET", "/v1/outcomes"): Case("/v1/outcomes", "asker", (401, 200, 200, 200)),
    ("POST", "/v1/members/{member_id}/welcome"): Case(
        "/v1/members/{asker}/welcome", "asker", (401, 403, 403, 202)
    ),
    ("POST", "/v1/auth/email-link"): Case(
        "/v1/auth/email-link", "asker", (202, 202, 202, 202), {"email": "jemand-{n}@example.org"}
    ),
    ("POST", "/v1/applications"): Case(
        "/v1/applications",
        "asker",
        (202, 202, 202, 202),
        application_payload(email="bewerbung-{n}@example.org"),
    ),
    ("GET", "/v1/applications"): Case("/v1/applications", "asker", (401, 403, 403, 200)),
    ("GET", "/v1/insights"): Case("/v1/insights", "asker", (401, 403, 403, 200)),
    ("POST", "/v1/insights/gaps/contacts"): Case(
        "/v1/insights/gaps/contacts",
        "asker",
        (401, 403, 403, 202),
        {"question_ids": ["{question}"], "member_ids": ["{spare}"]},
    ),
    ("POST", "/v1/applications/{application_id}/approve"): Case(
        "/v1/applications/{application}/approve", "asker", (401, 403, 403, 201), application=True
    ),
    ("POST", "/v1/applications/{application_id}/decline"): Case(
        "/v1/applications/{application}/decline",
        "asker",
        (401, 403, 403, 200),
        {"reason": "Das Netzwerk ist für Beschäftigte von Kommunen."},
        application=True,
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
        "{application}": world.application or "",
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

    async def test_every_route_for_every_role(
        self, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        failures = []
        for (method, template), case in CASES.items():
            world: World | None = None
            for role, expected in zip(ROLES, case.expected, strict=True):
                # A refused call changes nothing (its transaction rolls back), so the network is
                # rebuilt only after a call that succeeded.
                if world is None:
                    world = await build_world(
                        client, db_pool, accepted=case.accepted, application=case.application
                    )
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
