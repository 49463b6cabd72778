"""Liveness and readiness."""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.errors import problem_response, problem_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", responses=problem_responses(503))
async def healthz(request: Request) -> JSONResponse:
    """200 once the database answers and the embedding model is loaded."""
    pool: asyncpg.Pool | None = getattr(request.app.state, "pool", None)
    if getattr(request.app.state, "embedder", None) is None or pool is None:
        return problem_response(503, "Starting up: the model or the database is not ready.")
    try:
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return problem_response(
            503,
            "The database is not available right now.",
            type_="/problems/database-unavailable",
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok"})
