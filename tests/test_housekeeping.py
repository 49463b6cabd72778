"""The periodic round: invitations expire, delivered mail and old sign-in counts go, and one
worker at a time does it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest_asyncio

from service import db, housekeeping
from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite
from tests.helpers.database import TransactionPool, insert_member

RETENTION = timedelta(days=30)
WINDOW_SECONDS = 300


async def overdue_invitation(client: httpx.AsyncClient, db_pool: TransactionPool) -> str:
    asker = await create_member(client, municipality="Fragedorf")
    peer = await create_member(client, municipality="Losstadt", expertise=EXPERTISE)
    question = await ask(client, asker, **QUESTION)
    request_id: str = (await invite(client, asker, question, peer.id)).json()[0]["id"]
    await db_pool.execute(
        "UPDATE consultation_request SET expires_at = now() - interval '1 day' WHERE id = $1",
        request_id,
    )
    return request_id


async def mail(db_pool: TransactionPool, recipient: str, *, sent_days_ago: int | None) -> None:
    """A message to a new member, sent so many days ago (None: still waiting)."""
    member = await insert_member(db_pool.as_pool())
    await db_pool.execute(
        """
        INSERT INTO outbox (member_id, kind, recipient, subject, body, attempts, sent_at)
        VALUES ($1, 'invited', $2, 'Betreff', 'Text', 1, now() - make_interval(days => $3))
        """,
        member,
        recipient,
        sent_days_ago,
    )


async def round_(db_pool: TransactionPool) -> housekeeping.Round | None:
    return await housekeeping.run_once(
        db_pool.as_pool(), outbox_retention=RETENTION, counts_window_seconds=WINDOW_SECONDS
    )


class TestRound:
    async def test_expires_overdue_invitations(
        self, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        request_id = await overdue_invitation(client, db_pool)
        done = await round_(db_pool)
        assert done is not None and done.expired_requests == 1
        status = await db_pool.fetchval(
            "SELECT status FROM consultation_request WHERE id = $1", request_id
        )
        assert status == "expired"

    async def test_deletes_delivered_mail_after_the_retention_only(
        self, db_pool: TransactionPool
    ) -> None:
        await mail(db_pool, "old@example.org", sent_days_ago=40)
        await mail(db_pool, "recent@example.org", sent_days_ago=2)
        await mail(db_pool, "waiting@example.org", sent_days_ago=None)
        given_up = await insert_member(db_pool.as_pool())
        await db_pool.execute(
            """
            INSERT INTO outbox (member_id, kind, recipient, subject, body, attempts,
                                next_attempt_at)
            VALUES ($1, 'invited', 'given-up@example.org', 'Betreff', 'Text', 12,
                    now() - interval '40 days')
            """,
            given_up,
        )
        done = await round_(db_pool)
        assert done is not None and done.purged_messages == 2
        left = {r["recipient"] for r in await db_pool.fetch("SELECT recipient FROM outbox")}
        assert left == {"recent@example.org", "waiting@example.org"}

    async def test_deletes_counts_whose_window_and_block_have_passed(
        self, db_pool: TransactionPool
    ) -> None:
        await db_pool.execute(
            """
            INSERT INTO rate_limit (action, key, count, window_start, blocked_until) VALUES
                ('failed-sign-in', 'stale', 3, now() - interval '1 hour', NULL),
                ('failed-sign-in', 'served', 10, now() - interval '1 hour',
                 now() - interval '50 minutes'),
                ('failed-sign-in', 'blocked', 10, now() - interval '1 hour',
                 now() + interval '5 minutes'),
                ('email-request', 'counting', 2, now(), NULL)
            """
        )
        done = await round_(db_pool)
        assert done is not None and done.purged_sign_in_counts == 2
        left = {r["key"] for r in await db_pool.fetch("SELECT key FROM rate_limit")}
        assert left == {"blocked", "counting"}

    async def test_deletes_sessions_a_day_after_they_ended(self, db_pool: TransactionPool) -> None:
        member_id = await insert_member(db_pool.as_pool())
        await db_pool.execute(
            """
            INSERT INTO web_session (secret_hash, member_id, created_at, expires_at, ended_at)
            VALUES ('\\x01', $1, now() - interval '3 days', now() - interval '2 days', NULL),
                   ('\\x02', $1, now() - interval '2 hours', now() + interval '10 hours',
                    now() - interval '26 hours'),
                   ('\\x03', $1, now() - interval '1 hour', now() + interval '11 hours',
                    now() - interval '5 minutes'),
                   ('\\x04', $1, now(), now() + interval '12 hours', NULL)
            """,
            member_id,
        )
        done = await round_(db_pool)
        assert done is not None and done.purged_sessions == 2
        left = {bytes(r["secret_hash"]) for r in await db_pool.fetch("SELECT * FROM web_session")}
        assert left == {b"\x03", b"\x04"}

    async def test_forgets_digests_sent_in_periods_long_over(
        self, db_pool: TransactionPool
    ) -> None:
        member_id = await insert_member(db_pool.as_pool())
        await db_pool.execute(
            """
            INSERT INTO digest_run (member_id, period, created_at)
            VALUES ($1, 'weekly:2026-01-05', now() - interval '15 days'),
                   ($1, 'weekly:2026-01-12', now() - interval '6 days')
            """,
            member_id,
        )
        done = await round_(db_pool)
        assert done is not None and done.purged_digest_runs == 1
        left = [r["period"] for r in await db_pool.fetch("SELECT period FROM digest_run")]
        assert left == ["weekly:2026-01-12"]

    async def test_a_round_with_nothing_to_do_says_so(self, db_pool: TransactionPool) -> None:
        done = await round_(db_pool)
        assert done is not None and not done


@pytest_asyncio.fixture
async def pool(own_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await db.create_pool(own_database_url, max_size=3)
    yield created
    await created.close()


class TestOneWorkerAtATime:
    async def test_a_round_is_skipped_while_another_worker_does_one(
        self, pool: asyncpg.Pool
    ) -> None:
        async with pool.acquire() as other, other.transaction():
            await other.execute("SELECT pg_advisory_xact_lock($1)", housekeeping.HOUSEKEEPING_LOCK)
            skipped = await housekeeping.run_once(
                pool, outbox_retention=RETENTION, counts_window_seconds=WINDOW_SECONDS
            )
        done = await housekeeping.run_once(
            pool, outbox_retention=RETENTION, counts_window_seconds=WINDOW_SECONDS
        )
        assert skipped is None
        assert done is not None

    async def test_the_loop_runs_rounds_until_stopped(self, pool: asyncpg.Pool) -> None:
        await pool.execute(
            "INSERT INTO rate_limit (action, key, count, window_start) "
            "VALUES ('failed-sign-in', 'stale', 3, now() - interval '1 hour')"
        )
        stop = asyncio.Event()
        loop = asyncio.create_task(
            housekeeping.run_periodically(
                pool,
                stop=stop,
                outbox_retention=RETENTION,
                counts_window_seconds=WINDOW_SECONDS,
                interval=0.05,
            )
        )
        try:
            for _ in range(100):
                if not await pool.fetchval("SELECT count(*) FROM rate_limit"):
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await loop
        assert await pool.fetchval("SELECT count(*) FROM rate_limit") == 0
