"""The weekly digests at scale: 1 % of the members asked an open question this week, each shown
to ``AUDIENCE`` colleagues; the digests of the period are computed and queued as the
housekeeping round does (``service.digests.service.send_due``, in a transaction rolled back, so
that each round starts from the same state).

The baseline, in the same run: every member's digest one member at a time, as a loop over the
members would (their open questions, their waiting requests, composed, claimed and queued),
timed on ``NAIVE_SAMPLE`` members and scaled to all of them. Nothing is scored at digest time:
each open question's audience was found when it was opened, through the bounded retrieval of
suggestions, so the digests' work follows the audiences written this period, not members x
questions; the per-digest time (``ms_each``) stays flat across sizes.

``peerconsult bench`` measures it on each network it builds; ``peerconsult bench --digests``
measures only this, on networks of plain member rows (no model, no import), for sizes the full
bench takes hours to build.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.members import DigestFrequency
from models.questions import OPEN_FOR_DAYS
from service.db import Connection
from service.digests import periods
from service.digests import repository as digests_repository
from service.digests import service as digests_service
from service.notifications import messages, outbox
from service.notifications.mailing import Mailing
from service.questions import audience as audience_repository
from service.questions import service as questions_service

# Whom each open question is shown to: as many as the service shows one at most (on the
# development set it reaches 2 of 40 members, 5 %, which at these sizes is above the cap).
AUDIENCE = questions_service.AUDIENCE
ASKING_SHARE = 0.01
NAIVE_SAMPLE = 1000
ROUNDS = 3
MAILING = Mailing("https://peerconsult.example.org")

# $1 open questions this week, by as many members, each shown to $2 members of other
# municipalities (spread over the network by their numbers, not by random(): one pass).
_OPEN_QUESTIONS = """
WITH numbered AS (SELECT id, municipality_id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM member),
     size AS (SELECT count(*) AS members FROM member),
     asked AS (
         INSERT INTO question (asker_id, title, body, open, opened_at, created_at)
         SELECT numbered.id, 'Offene Frage ' || numbered.n, 'Wer hat damit Erfahrung?', true,
                $3::timestamptz - (numbered.n % 5) * interval '1 day',
                $3::timestamptz - (numbered.n % 5) * interval '1 day'
         FROM numbered, size
         WHERE numbered.n % greatest(1, size.members / $1) = 0
         RETURNING id, asker_id, opened_at
     ),
     ordered AS (SELECT asked.*, row_number() OVER (ORDER BY id) AS q FROM asked)
INSERT INTO question_audience (question_id, member_id, score, reasons, created_at)
SELECT ordered.id, numbered.id, 0.5, '{"matched_tags": [], "passage": null}', ordered.opened_at
FROM ordered, size, generate_series(1, $2) AS r
JOIN numbered ON true
WHERE numbered.n = (ordered.q * 7919 + r * 104729) % size.members
  AND numbered.id <> ordered.asker_id
ON CONFLICT DO NOTHING
"""

# A network of plain member rows (``--digests``): $1 members in $1 / 4 municipalities, joined a
# month before $2, with e-mail and the weekly digest.
_PLAIN_NETWORK = """
WITH places AS (
    INSERT INTO municipality (name, state, name_key, state_key)
    SELECT 'Ort ' || i, 'Hessen', 'ort ' || i, 'hessen'
    FROM generate_series(0, greatest(1, $1 / 4) - 1) AS i
    RETURNING id
), numbered AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM places)
INSERT INTO member (municipality_id, name, email, expertise, token_hash, created_at)
SELECT numbered.id, 'Mitglied ' || i, 'mitglied-' || i || '@bench.example.org',
       'Bürgerbeteiligung', sha256(('bench-' || i)::bytea),
       $2::timestamptz - interval '30 days'
FROM generate_series(0, $1 - 1) AS i
JOIN numbered ON numbered.n = i % greatest(1, $1 / 4)
"""


@dataclass(frozen=True, slots=True)
class DigestTimes:
    open_questions: int
    queued: int  # digests queued in the period
    seconds: float  # computing and queueing them (median of ROUNDS)
    naive_seconds: float  # every member's digest one at a time, scaled from the sample

    @property
    def vs_naive(self) -> float:
        return self.seconds / self.naive_seconds

    @property
    def ms_each(self) -> float:
        """Per digest queued: flat across sizes when the work follows the open questions."""
        return 1000 * self.seconds / max(1, self.queued)


def _coming_monday(now: datetime) -> datetime:
    """A quarter past seven on a coming Monday, German time: a weekly period has just begun.
    The five days before it, when the questions are opened, lie after ``now`` (and so after
    every member joined)."""
    later = now + timedelta(days=5)
    began = periods.start(DigestFrequency.weekly, later) + periods.length(DigestFrequency.weekly)
    return began + timedelta(minutes=15)


async def plain_network(conn: Connection, members: int) -> None:
    await conn.execute(_PLAIN_NETWORK, members, datetime.now(UTC))
    await conn.execute("ANALYZE")


async def measure(conn: Connection, members: int) -> DigestTimes:
    """Open 1 % of the members' questions in the week before a Monday, then time that
    Monday's weekly digests and the per-member baseline."""
    monday = _coming_monday(datetime.now(UTC))
    opened_before = monday - timedelta(days=1)
    wanted = max(1, round(members * ASKING_SHARE))
    await conn.execute(_OPEN_QUESTIONS, wanted, AUDIENCE, opened_before)
    await conn.execute("ANALYZE")
    open_questions: int = await conn.fetchval("SELECT count(*) FROM question WHERE open")
    seconds, queued = [], 0
    for _ in range(ROUNDS):
        transaction = conn.transaction()
        await transaction.start()
        try:
            started = time.perf_counter()
            queued = await digests_service.send_due(
                conn, MAILING, DigestFrequency.weekly, now=monday
            )
            seconds.append(time.perf_counter() - started)
        finally:
            await transaction.rollback()
    return DigestTimes(
        open_questions=open_questions,
        queued=queued,
        seconds=statistics.median(seconds),
        naive_seconds=await _naive_seconds(conn, members, monday),
    )


async def _naive_seconds(conn: Connection, members: int, monday: datetime) -> float:
    """Each member's digest one at a time, read, composed, claimed and queued as ``send_due``
    does in batches (``NAIVE_SAMPLE`` members, in a transaction rolled back), scaled to every
    member."""
    key = await digests_repository.unsubscribe_key(conn)
    period = periods.key(DigestFrequency.weekly, periods.start(DigestFrequency.weekly, monday))
    sample = await conn.fetch(
        "SELECT id, name, email, created_at FROM member ORDER BY id LIMIT $1", NAIVE_SAMPLE
    )
    transaction = conn.transaction()
    await transaction.start()
    try:
        started = time.perf_counter()
        for record in sample:
            member_id, since = record["id"], record["created_at"]
            questions = await audience_repository.open_for_members(
                conn,
                {member_id: since},
                limit=digests_service.QUESTIONS_PER_DIGEST,
                days=OPEN_FOR_DAYS,
            )
            message = digests_service.compose(
                MAILING,
                key,
                member_id=member_id,
                name=record["name"],
                since=since,
                frequency=DigestFrequency.weekly,
                questions=questions.get(member_id, []),
                waiting=(await digests_repository.waiting(conn, [member_id])).get(member_id, []),
            )
            if message is not None and await digests_repository.claim(conn, [member_id], period):
                await outbox.enqueue_many(
                    conn,
                    [outbox.ToMember(member_id, record["email"], message)],
                    kind=messages.DIGEST,
                )
        seconds = time.perf_counter() - started
    finally:
        await transaction.rollback()
    return seconds * members / max(1, len(sample))
