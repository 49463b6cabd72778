"""Scheduled digests go out once per member and period, however many workers run the
housekeeping round at once (service/digests), and only once the period began."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.members import DigestFrequency
from service import db, housekeeping
from service.digests import periods
from service.digests import service as digests_service
from service.embedding import Embedder
from service.members import importer
from service.notifications.mailing import Mailing
from tests.helpers import factories

MAILING = Mailing("https://peerconsult.example.org")
# A Monday, 7:20 in Berlin: the weekly period began 20 minutes ago.
MONDAY = datetime(2026, 12, 7, 6, 20, tzinfo=UTC)

OPEN_QUESTION = """
WITH asked AS (
    INSERT INTO question (asker_id, title, body, open, opened_at)
    SELECT id, 'Bürgerrat per Los', 'Wie habt ihr ausgelost?', true, $1 FROM member
    ORDER BY id LIMIT 1
    RETURNING id, asker_id
)
INSERT INTO question_audience (question_id, member_id, score, reasons, created_at)
SELECT asked.id, m.id, 0.9, '{"matched_tags": [], "passage": null}', $1
FROM asked JOIN member m ON m.id <> asked.asker_id
JOIN member a ON a.id = asked.asker_id
WHERE m.municipality_id <> a.municipality_id
"""


async def _network(url: str, embedder: Embedder, opened: datetime) -> int:
    """Eight members with e-mail, one open question shown to those of other municipalities;
    how many can get a digest."""
    pool = await db.create_pool(url, max_size=2)
    try:
        await importer.import_members(
            pool, embedder, importer.validate_records(factories.network(8))
        )
        await pool.execute(
            "UPDATE member SET created_at = $1::timestamptz - interval '30 days'", opened
        )
        await pool.execute(OPEN_QUESTION, opened)
        due: int = await pool.fetchval("SELECT count(*) FROM question_audience")
    finally:
        await pool.close()
    return due


async def test_two_workers_send_each_digest_once(
    own_database_url: str, fake_embedder: Embedder
) -> None:
    due = await _network(own_database_url, fake_embedder, MONDAY - timedelta(days=2))
    assert due > 0
    pool = await db.create_pool(own_database_url, max_size=4)

    async def worker() -> int:
        async with pool.acquire() as conn, conn.transaction():
            return await digests_service.send_scheduled(conn, MAILING, now=MONDAY)

    async def round_of_housekeeping() -> object:
        return await housekeeping.run_once(
            pool, outbox_retention=timedelta(days=30), counts_window_seconds=60, mailing=MAILING
        )

    try:
        first, second = await asyncio.gather(worker(), worker())
        # Later rounds of the same period, by either path, send nothing more.
        await round_of_housekeeping()
        third = await worker()
        digests = await pool.fetchval("SELECT count(*) FROM outbox WHERE kind = 'digest'")
        recipients = await pool.fetchval(
            "SELECT count(DISTINCT member_id) FROM outbox WHERE kind = 'digest'"
        )
        runs = await pool.fetch("SELECT period FROM digest_run")
    finally:
        await pool.close()
    assert first + second == due and third == 0
    assert digests == recipients == due
    assert {run["period"] for run in runs} == {"weekly:2026-12-07"}


async def test_digests_wait_for_their_period(
    own_database_url: str, fake_embedder: Embedder
) -> None:
    # Opened on Sunday evening: new for the daily digest of Monday as for the weekly one.
    await _network(own_database_url, fake_embedder, MONDAY - timedelta(hours=12))
    pool = await db.create_pool(own_database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            # Later on Sunday evening: Sunday's daily period began more than 12 hours ago and
            # last week's long ago; nothing is sent until Monday 7:00.
            sunday = MONDAY - timedelta(hours=11)
            assert await digests_service.send_scheduled(conn, MAILING, now=sunday) == 0
            await conn.execute("UPDATE member SET digest = 'never'")
            assert await digests_service.send_scheduled(conn, MAILING, now=MONDAY) == 0
            await conn.execute("UPDATE member SET digest = 'daily'")
            # Daily members get theirs at 7:00, not the weekly one.
            assert (
                await digests_service.send_due(conn, MAILING, DigestFrequency.weekly, now=MONDAY)
                == 0
            )
            sent = await digests_service.send_due(conn, MAILING, DigestFrequency.daily, now=MONDAY)
            assert sent > 0
            today = periods.key(DigestFrequency.daily, periods.start(DigestFrequency.daily, MONDAY))
            runs = await conn.fetchval("SELECT count(*) FROM digest_run WHERE period = $1", today)
            assert runs == sent
    finally:
        await pool.close()
