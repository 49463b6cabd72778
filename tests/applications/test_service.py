"""Applications as the applications service handles them (service/applications/service.py):
a confirmation link first, the coordinator's decision after, and no flood of confirmations to
one address."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from models.applications import ApplicationCreate, ApplicationStatus
from service import identity
from service.applications import service as applications_service
from service.embedding import Embedder
from service.errors import Conflict
from service.notifications.mailing import Mailing
from tests.helpers.api import application_payload
from tests.helpers.database import TransactionPool

MAILING = Mailing(public_url="https://peerconsult.example.org")
OUTBOX_TO = "SELECT body FROM outbox WHERE recipient = $1"
COUNT_TO = "SELECT count(*) FROM outbox WHERE recipient = $1"


def _application(email: str) -> ApplicationCreate:
    return ApplicationCreate.model_validate(application_payload(email=email))


class TestApplying:
    async def test_an_application_waits_for_its_confirmation_then_for_the_coordinator(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            await applications_service.apply(conn, MAILING, _application("neu@example.org"))
            body = await conn.fetchval(
                "SELECT body FROM outbox WHERE recipient = 'neu@example.org'"
            )
            secret = re.search(r"/mitglied-werden/bestaetigen/([\w-]+)", body).group(1)  # type: ignore[union-attr]
            waiting = ApplicationStatus.pending
            coordinator = identity.COORDINATOR
            assert await applications_service.list_applications(conn, coordinator, waiting) == []
            assert await applications_service.confirm(conn, secret)
            [application] = await applications_service.list_applications(conn, coordinator, waiting)
            member = await applications_service.approve(
                conn, fake_embedder, MAILING, coordinator, UUID(application.id)
            )
            assert member.email == "neu@example.org"
            with pytest.raises(Conflict):
                await applications_service.decline(conn, MAILING, UUID(application.id), None)

    async def test_an_address_gets_three_confirmations_at_most(
        self, db_pool: TransactionPool
    ) -> None:
        async with db_pool.acquire() as conn:
            answers = [
                await applications_service.apply(conn, MAILING, _application("oft@example.org"))
                for _ in range(5)
            ]
            assert [answer is not None for answer in answers] == [True] * 3 + [False] * 2
            sent = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE recipient = 'oft@example.org'"
            )
            assert sent == applications_service.UNCONFIRMED_PER_ADDRESS
