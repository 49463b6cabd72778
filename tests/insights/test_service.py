"""The coordinator's insights as the insights service computes them (service/insights/
service.py): the request flow and its rates, and who is reachable."""

from __future__ import annotations

from uuid import UUID

from models.questions import QuestionCreate
from models.requests import RequestCreate
from service import identity
from service.embedding import Embedder
from service.insights import service as insights_service
from service.questions import service as questions_service
from service.requests import service as requests_service
from tests.helpers.api import EXPERTISE, QUESTION
from tests.helpers.database import TransactionPool
from tests.helpers.members import new_member


class TestRequestFlow:
    async def test_counts_states_and_the_acceptance_rate(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            asker = await new_member(conn, fake_embedder, municipality="Aachen")
            peers = [
                await new_member(conn, fake_embedder, municipality=town, expertise=EXPERTISE)
                for town in ("Bonn", "Celle", "Dessau")
            ]
            question = await questions_service.ask(
                conn, fake_embedder, asker, QuestionCreate.model_validate(QUESTION)
            )
            created = await requests_service.invite(
                conn,
                asker,
                UUID(question.id),
                RequestCreate.model_validate({"member_ids": [str(p.member_id) for p in peers]}),
                expiry_days=14,
                mailing=None,
            )
            by_peer = {UUID(request.peer.id): UUID(request.id) for request in created}
            await requests_service.accept(conn, peers[0], by_peer[peers[0].member_id], mailing=None)
            await requests_service.decline(
                conn, peers[1], by_peer[peers[1].member_id], mailing=None
            )
            found = await insights_service.insights(conn, fake_embedder, identity.COORDINATOR)
        flow = found.requests
        assert (flow.accepted, flow.declined, flow.pending) == (1, 1, 1)
        assert flow.acceptance_rate == 0.5
        assert found.members.total == 4
        assert found.members.accepting == 4
