"""`peerconsult evaluate`: score a judged set through the HTTP API, as a user would.

A throw-away database is created (a temporary embedded server, or a temporary database on the
``DATABASE_URL`` server), the set's members are created with ``POST /v1/members``, and every
question is asked with ``POST /v1/questions`` by its asker. The ranking is therefore exactly
what the service answers, hard rules included.

With ``within``, the set is evaluated inside a synthetic network of that many members, imported
first through the import path (``lab/bench/synthetic.py``): the questions are then answered
as in a large network, through the bounded candidate channels and the vector index, not by
ranking everyone. Synthetic members count as grade 0, even where they would be plausible
answers, so the absolute figures are understated; compare them with each other.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import asyncpg
import httpx

from api.app import create_app
from lab.evaluation.dataset import Dataset
from lab.evaluation.metrics import EvaluationReport, QuestionResult
from service.config import Settings
from service.db import scratch_database
from service.embedding import Embedder
from service.members import importer

EVALUATION_DEPTH = 10  # Recall@10 needs ten suggestions


async def evaluate_over_http(
    dataset: Dataset,
    embedder: Embedder,
    *,
    database_url: str | None = None,
    within: int = 0,
    progress: Callable[[int], None] | None = None,
) -> EvaluationReport:
    """Create the set's members and ask its questions through the API; score the answers.
    ``within``: that many synthetic members are imported first (``progress`` counts them too)."""
    admin_token = secrets.token_urlsafe(24)
    async with scratch_database(database_url) as url:
        settings = Settings(database_url=url, admin_token=admin_token)
        app = create_app(settings, embedder=embedder)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://evaluation") as client,
        ):
            # The set's ids (and the synthetic members' import ids) by the service's.
            ids: dict[str, str] = (
                await _import_synthetic(app.state.pool, embedder, within, progress)
                if within
                else {}
            )
            coordinator = {"Authorization": f"Bearer {admin_token}"}
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
    report_settings: dict[str, object] = {"model": embedder.name, "path": "HTTP API"}
    if within:
        report_settings["within synthetic members"] = within
    return EvaluationReport(results=tuple(results), settings=report_settings)


async def _import_synthetic(
    pool: asyncpg.Pool, embedder: Embedder, size: int, progress: Callable[[int], None] | None
) -> dict[str, str]:
    """A synthetic network of ``size`` members, loaded as an import loads one (a bulk load
    builds the vector index at the end and refreshes the planner's statistics); returns their
    import ids (``bench-000042``) by the service's."""
    from lab.bench import synthetic

    members = importer.validate_records(synthetic.network(size))
    await importer.import_members(pool, embedder, members, progress=progress)
    async with pool.acquire() as conn:
        records = await conn.fetch("SELECT id, external_id FROM member")
    return {str(record["id"]): record["external_id"] for record in records}


def as_text(report: EvaluationReport, *, model: str, within: int, worst: int) -> str:
    """What ``peerconsult evaluate`` prints."""
    network = f"within      {within} synthetic members\n" if within else ""
    return f"model       {model}\n{network}{report.format(worst)}"


def as_json(report: EvaluationReport, *, model: str, within: int, worst: int) -> str:
    """What ``peerconsult evaluate --json`` prints: the figures and the worst questions."""
    payload = {
        **report.summary(),
        "model": model,
        "within": within,
        "worst": [
            {
                "question_id": result.question_id,
                "title": result.title,
                "ndcg@5": result.ndcg_at_5,
                "recall@10": result.recall_at_10,
                "reciprocal_rank": result.reciprocal_rank,
                "top5": [
                    {"member_id": member_id, "grade": result.grades.get(member_id, 0)}
                    for member_id in result.ranked[:5]
                ],
                "missed": list(result.missed),
            }
            for result in report.worst(worst)
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)
