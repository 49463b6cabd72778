"""Questions and the colleagues suggested for them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.auth import ApiCaller, CurrentMember
from api.deps import Conn, EmbedderDep, ReplicaDep
from api.errors import problem_responses
from models.questions import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OpenQuestionList,
    Question,
    QuestionCreate,
    QuestionUpdate,
    SuggestionList,
)
from service.questions import service as questions_service

router = APIRouter(prefix="/v1/questions", tags=["questions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Question,
    responses=problem_responses(401, 403, 413, 422),
)
async def ask_question(
    data: QuestionCreate,
    conn: Conn,
    embedder: EmbedderDep,
    principal: CurrentMember,
    replica: ReplicaDep,
) -> Question:
    """Ask a question; the answer carries the suggested colleagues, best first."""
    return await questions_service.ask(conn, embedder, principal, data, replica=replica)


@router.get("/open", response_model=OpenQuestionList, responses=problem_responses(401, 403, 422))
async def open_questions(
    conn: Conn,
    principal: CurrentMember,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> OpenQuestionList:
    """Open questions of the last 30 days that fit you, best first: only where you may be
    suggested to the asker (another municipality, accepting requests, below capacity), and
    never one you were invited to or offered help on."""
    return OpenQuestionList(
        questions=await questions_service.open_questions(conn, principal, limit=limit)
    )


@router.patch(
    "/{question_id:uuid}",
    response_model=Question,
    responses=problem_responses(401, 403, 404, 422),
)
async def update_question(
    question_id: UUID,
    data: QuestionUpdate,
    conn: Conn,
    embedder: EmbedderDep,
    principal: CurrentMember,
) -> Question:
    """Open your question to every colleague who fits it, or close it (it leaves every list)."""
    return await questions_service.set_open(conn, embedder, principal, question_id, data)


@router.get(
    "/{question_id:uuid}", response_model=Question, responses=problem_responses(401, 403, 404)
)
async def get_question(question_id: UUID, conn: Conn, principal: ApiCaller) -> Question:
    """A question with the suggestions made when it was asked (asker or coordinator)."""
    return await questions_service.get_question(conn, principal, question_id)


@router.get(
    "/{question_id:uuid}/suggestions",
    response_model=SuggestionList,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_suggestions(
    question_id: UUID,
    conn: Conn,
    embedder: EmbedderDep,
    principal: ApiCaller,
    replica: ReplicaDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SuggestionList:
    """Suggestions for the question on the network as it is now (asker or coordinator)."""
    suggestions = await questions_service.current_suggestions(
        conn,
        embedder,
        principal,
        question_id,
        limit=limit,
        replica=replica,
    )
    return SuggestionList(suggestions=suggestions)
