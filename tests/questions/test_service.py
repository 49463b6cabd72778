"""Asking, as the questions service does it (service/questions/service.py): the hard rules of
matching, what is kept of a question, and drafts that belong to their member."""

from __future__ import annotations

from uuid import UUID

import pytest

from models.questions import QuestionCreate, QuestionDraft
from service.embedding import Embedder
from service.errors import Forbidden
from service.questions import service as questions_service
from tests.helpers.api import EXPERTISE, QUESTION
from tests.helpers.database import TransactionPool
from tests.helpers.members import new_member


class TestAsking:
    async def test_suggests_colleagues_of_other_municipalities_who_take_requests(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker = await new_member(conn, fake_embedder, municipality="Aachen")
            neighbour = await new_member(
                conn, fake_embedder, municipality="Aachen", expertise=EXPERTISE
            )
            expert = await new_member(conn, fake_embedder, municipality="Bonn", expertise=EXPERTISE)
            paused = await new_member(
                conn,
                fake_embedder,
                municipality="Celle",
                expertise=EXPERTISE,
                accepting_requests=False,
            )
            question = await questions_service.ask(
                conn, fake_embedder, asker, QuestionCreate.model_validate(QUESTION)
            )
            suggested = [s.member.id for s in question.suggestions]
            assert suggested[0] == str(expert.member_id)
            for excluded in (asker, neighbour, paused):
                assert str(excluded.member_id) not in suggested
            kept = await questions_service.get_question(conn, asker, UUID(question.id))

            assert [s.member.id for s in kept.suggestions] == suggested

    async def test_only_the_asker_sees_a_question(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker = await new_member(conn, fake_embedder, municipality="Aachen")
            other = await new_member(conn, fake_embedder, municipality="Bonn")
            question = await questions_service.ask(
                conn, fake_embedder, asker, QuestionCreate.model_validate(QUESTION)
            )
            with pytest.raises(Forbidden):
                await questions_service.get_question(conn, other, UUID(question.id))


class TestDrafts:
    async def test_a_draft_comes_back_once_and_only_to_its_member(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            author = await new_member(conn, fake_embedder, municipality="Aachen")
            other = await new_member(conn, fake_embedder, municipality="Bonn")
            draft = QuestionDraft(title="Halb fertig", body="Wie habt ihr")
            draft_id = await questions_service.keep_draft(conn, author, draft)
            assert await questions_service.take_draft(conn, other, draft_id) is None
            assert await questions_service.take_draft(conn, author, draft_id) == draft
            assert await questions_service.take_draft(conn, author, draft_id) is None

    async def test_a_member_keeps_the_newest_drafts_only(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            author = await new_member(conn, fake_embedder, municipality="Aachen")
            kept = [
                await questions_service.keep_draft(
                    conn, author, QuestionDraft(title=f"Entwurf {n}")
                )
                for n in range(questions_service.DRAFTS_PER_MEMBER + 2)
            ]
            assert await questions_service.take_draft(conn, author, kept[0]) is None
            assert await questions_service.take_draft(conn, author, kept[-1]) is not None
