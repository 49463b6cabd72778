"""Generated input against the OpenAPI description (schemathesis): never a 500, every error a
problem+json. Runs against a real `peerconsult serve` process on its own database; bounded in
examples per operation so the suite stays fast."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case
from schemathesis.core.result import Ok

from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.database import TEMPLATE, own_database
from tests.helpers.processes import free_port, serve, wait_until_healthy
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    member_token: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live_database(server_url: str, template_url: str) -> AsyncIterator[str]:
    async with own_database(server_url, template=TEMPLATE) as url:
        yield url


@pytest.fixture(scope="module")
def live_server(live_database: str) -> Iterator[LiveServer]:
    port = free_port()
    # The server sends e-mail (to a real SMTP server on loopback), so the routes that exist to
    # send some do their work rather than answer 503.
    smtp = SmtpServer(free_port())
    smtp.start(Mailbox())
    env = {
        **os.environ,
        "DATABASE_URL": live_database,
        "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        "PEERCONSULT_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?{FROM_QUERY}&timeout=10",
        # Generated requests carry generated tokens; throttling would only hide the routes.
        "PEERCONSULT_AUTH_FAILURE_LIMIT": "1000000",
    }
    process = serve(port, env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base_url)
        created = httpx.post(
            f"{base_url}/v1/members",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json={
                "name": "Generierte Eingaben",
                "email": "fuzz@example.org",
                "municipality": {"name": "Prüfstadt", "state": "Thüringen"},
                "expertise": "Ich habe Beteiligungsleitlinien und einen Bürgerhaushalt eingeführt.",
                "tags": ["Leitlinien"],
            },
        )
        assert created.status_code == 201, created.text
        yield LiveServer(base_url=base_url, member_token=created.json()["token"])
    finally:
        process.terminate()
        process.wait(timeout=30)
        smtp.stop()


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json")


# Answers to input that the schema allows which would say the schema and the server disagree
# (a type, a null, a field the schema does not know or requires).
_DISAGREEMENTS = ("_type", "_parsing", "extra_forbidden", "missing", "none_required")


def check(case: Case[Any], live_server: LiveServer, *, valid: bool) -> int:
    """Send the case with a member's and the coordinator's token; returns how many requests."""
    for token in (live_server.member_token, ADMIN_TOKEN):
        response = case.call(
            base_url=live_server.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, (where, response.text[:300])
        if response.status_code >= 400:
            # schemathesis gives every header as a list of values
            [content_type] = response.headers["content-type"]
            assert content_type.startswith("application/problem+json"), where
            problem = response.json()
            assert problem["status"] == response.status_code and problem["title"], where
            if valid:
                disagreements = [
                    error
                    for error in problem.get("errors") or []
                    if error["type"].endswith(_DISAGREEMENTS) or "null" in error["message"]
                ]
                assert not disagreements, (where, case.body, disagreements)
    return 2


class TestGeneratedInput:
    def test_valid_and_invalid_requests_never_fail_the_server(
        self, api_schema: schemathesis.BaseSchema, live_server: LiveServer
    ) -> None:
        operations = [
            result.ok() for result in api_schema.get_all_operations() if isinstance(result, Ok)
        ]
        assert len(operations) >= 15
        tried_nothing: list[str] = []
        sent: list[int] = []
        for operation in operations:
            for mode in (
                schemathesis.GenerationMode.POSITIVE,
                schemathesis.GenerationMode.NEGATIVE,
            ):
                try:
                    examples(operation, mode, live_server, sent)()
                except Unsatisfiable:
                    # Nothing invalid can be sent to an operation without input (GET /healthz).
                    assert mode == schemathesis.GenerationMode.NEGATIVE
                    tried_nothing.append(f"{operation.method.upper()} {operation.path}")
        assert len(tried_nothing) <= 3, tried_nothing
        assert sum(sent) >= 1000


def examples(
    operation: Any, mode: schemathesis.GenerationMode, live_server: LiveServer, sent: list[int]
) -> Callable[[], None]:
    """A run of generated cases of one kind for one operation, counting the requests sent."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Any]) -> None:
        valid = mode == schemathesis.GenerationMode.POSITIVE
        sent.append(check(case, live_server, valid=valid))

    result: Callable[[], None] = run
    return result
