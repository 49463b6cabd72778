"""`peerconsult evaluate`: score a judged set through the HTTP API, as a user would.

A throw-away database is created (a temporary embedded server, or a temporary database on the
``DATABASE_URL`` server), the set's members are created with ``POST /v1/members``, and every
question is asked with ``POST /v1/questions`` by its asker. The ranking is therefore exactly
what the service answers, hard rules included.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx

from api.app import create_app
from service.config import Settings
from service.db import scratch_database
from service.embeddings import Embedder
from service.evaluation.dataset import Dataset
from service.evaluation.metrics import EvaluationReport, QuestionResult

EVALUATION_DEPTH = 10  # Recall@10 needs ten suggestions


async def evaluate_over_http(
    dataset: Dataset,
    embedder: Embedder,
    *,
    database_url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvaluationReport:
    """Create the set's members and ask its questions through the API; score the answers."""
    admin_token = secrets.token_urlsafe(24)
    async with scratch_database(database_url) as url:
        settings = Settings(database_url=url, admin_token=admin_token)
        app = create_app(settings, embedder=embedder)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://evaluation") as client,
        ):
            coordinator = {"Authorization": f"Bearer {admin_token}"}
            ids: dict[str, str] = {}
            tokens: dict[str, str] = {}
            for member in dataset.members:
                response = await client.post(
                    "/v1/members",
                    headers=coordinator,
                    json={
                        "name": member.name,
                        "email": f"{member.id}@evaluation.example.org",
                        "municipality": {
                            "name": member.municipality,
                            "state": member.state,
                            "kind": member.municipality_type,
                        },
                        "role": member.role,
                        "expertise": member.expertise,
                        "tags": list(member.tags),
                        "languages": list(member.languages) or ["de"],
                    },
                )
                response.raise_for_status()
                created = response.json()
                ids[created["id"]] = member.id
                tokens[member.id] = created["token"]
                if progress is not None:
                    progress(1)
            results = []
            for question in dataset.questions:
                response = await client.post(
                    "/v1/questions",
                    headers={"Authorization": f"Bearer {tokens[question.asker_id]}"},
                    json={
                        "title": question.title,
                        "body": question.body,
                        "tags": list(question.tags),
                        "limit": EVALUATION_DEPTH,
                    },
                )
                response.raise_for_status()
                ranked = [ids[item["member"]["id"]] for item in response.json()["suggestions"]]
                results.append(
                    QuestionResult.score(
                        question.id,
                        question.title,
                        ranked,
                        dataset.eligible_grades(question),
                    )
                )
                if progress is not None:
                    progress(1)
    return EvaluationReport(
        results=tuple(results), settings={"model": embedder.name, "path": "HTTP API"}
    )
