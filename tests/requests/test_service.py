"""The consultation workflow as the requests service runs it (service/requests/service.py):
who may be invited, who may answer, each state change once, feedback once."""

from __future__ import annotations

from uuid import UUID

import pytest

from models.questions import QuestionCreate
from models.requests import FeedbackCreate, RequestCreate, RequestStatus
from service import identity
from service.db import Connection
from service.embedding import Embedder
from service.errors import Conflict, Forbidden, Unprocessable
from service.questions import service as questions_service
from service.requests import service as requests_service
from tests.helpers.api import EXPERTISE, QUESTION
from tests.helpers.database import TransactionPool
from tests.helpers.members import new_member


async def _asked(conn: Connection, embedder: Embedder) -> tuple[identity.MemberPrincipal, UUID]:
    asker = await new_member(conn, embedder, municipality="Aachen")
    question = await questions_service.ask(
        conn, embedder, asker, QuestionCreate.model_validate(QUESTION)
    )
    return asker, UUID(question.id)


async def _invite(
    conn: Connection,
    asker: identity.MemberPrincipal,
    question_id: UUID,
    *peers: identity.MemberPrincipal,
) -> list[UUID]:
    created = await requests_service.invite(
        conn,
        asker,
        question_id,
        RequestCreate.model_validate({"member_ids": [str(p.member_id) for p in peers]}),
        expiry_days=14,
        mailing=None,
    )
    return [UUID(request.id) for request in created]


async def _expert(
    conn: Connection, embedder: Embedder, municipality: str
) -> identity.MemberPrincipal:
    return await new_member(conn, embedder, municipality=municipality, expertise=EXPERTISE)


class TestInviting:
    async def test_nobody_of_the_askers_own_municipality(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker, question_id = await _asked(conn, fake_embedder)
            neighbour = await new_member(conn, fake_embedder, municipality="Aachen")
            with pytest.raises(Unprocessable):
                await _invite(conn, asker, question_id, neighbour)

    async def test_nobody_who_paused_and_nobody_twice(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker, question_id = await _asked(conn, fake_embedder)
            paused = await new_member(
                conn, fake_embedder, municipality="Bonn", accepting_requests=False
            )
            with pytest.raises(Conflict):
                await _invite(conn, asker, question_id, paused)
            expert = await new_member(
                conn, fake_embedder, municipality="Celle", expertise=EXPERTISE
            )
            await _invite(conn, asker, question_id, expert)
            with pytest.raises(Conflict):
                await _invite(conn, asker, question_id, expert)


class TestAnswering:
    async def test_only_the_invited_colleague_answers_and_only_once(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker, question_id = await _asked(conn, fake_embedder)
            expert = await _expert(conn, fake_embedder, "Bonn")
            [request_id] = await _invite(conn, asker, question_id, expert)
            with pytest.raises(Forbidden):
                await requests_service.accept(conn, asker, request_id, mailing=None)
            accepted = await requests_service.accept(conn, expert, request_id, mailing=None)
            assert accepted.status == RequestStatus.accepted
            assert accepted.contact is not None
            with pytest.raises(Conflict):
                await requests_service.decline(conn, expert, request_id, mailing=None)

    async def test_feedback_once_by_the_asker_after_acceptance(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker, question_id = await _asked(conn, fake_embedder)
            expert = await _expert(conn, fake_embedder, "Bonn")
            [request_id] = await _invite(conn, asker, question_id, expert)
            feedback = FeedbackCreate.model_validate({"helpful": 5})
            with pytest.raises(Conflict):
                await requests_service.give_feedback(conn, asker, request_id, feedback)
            await requests_service.accept(conn, expert, request_id, mailing=None)
            with pytest.raises(Forbidden):
                await requests_service.give_feedback(conn, expert, request_id, feedback)
            rated = await requests_service.give_feedback(conn, asker, request_id, feedback)
            assert rated.feedback is not None and rated.feedback.helpful == 5
            with pytest.raises(Conflict):
                await requests_service.give_feedback(conn, asker, request_id, feedback)

    async def test_a_withdrawn_invitation_cannot_be_accepted(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker, question_id = await _asked(conn, fake_embedder)
            expert = await _expert(conn, fake_embedder, "Bonn")
            [request_id] = await _invite(conn, asker, question_id, expert)
            await requests_service.withdraw(conn, asker, request_id, mailing=None)
            with pytest.raises(Conflict):
                await requests_service.accept(conn, expert, request_id, mailing=None)
