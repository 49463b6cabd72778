"""All SQL of the coordinator's insights. Each statement aggregates in PostgreSQL; the period
is ``$1`` (since, inclusive) and ``$2`` (until, exclusive), either of them NULL for open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from models.insights import GapMember, KindCount, Reach, StateCount
from models.members import Municipality
from service.db import Connection
from service.members.repository import municipality_from_record

_IN_PERIOD = (
    "($1::timestamptz IS NULL OR {column} >= $1) AND ($2::timestamptz IS NULL OR {column} < $2)"
)


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    id: UUID
    asker_id: UUID
    title: str
    body: str
    tags: list[str]
    created_at: datetime
    # How well the best candidate fitted it when it was asked (None: asked before fits were
    # estimated).
    coverage: float | None


_ASKED_COLUMNS = "q.id, q.asker_id, q.title, q.body, q.tags, q.created_at, q.coverage"

# The period's questions whose best candidate fitted below $3 when they were asked, or that
# were asked before fits were estimated: those that were gaps, newest $4.
GAP_QUESTIONS = f"""
SELECT * FROM (
    SELECT {_ASKED_COLUMNS}
    FROM question q
    WHERE {_IN_PERIOD.format(column="q.created_at")} AND (q.coverage IS NULL OR q.coverage < $3)
    ORDER BY q.created_at DESC, q.id
    LIMIT $4
) newest
ORDER BY created_at, id
"""


def _asked(record: asyncpg.Record) -> AskedQuestion:
    return AskedQuestion(
        id=record["id"],
        asker_id=record["asker_id"],
        title=record["title"],
        body=record["body"],
        tags=list(record["tags"]),
        created_at=record["created_at"],
        coverage=record["coverage"],
    )


async def gap_questions(
    conn: Connection,
    since: datetime | None,
    until: datetime | None,
    *,
    covered_from: float,
    limit: int,
) -> list[AskedQuestion]:
    """``GAP_QUESTIONS``, oldest first."""
    records = await conn.fetch(GAP_QUESTIONS, since, until, covered_from, limit)
    return [_asked(record) for record in records]


async def questions_by_id(conn: Connection, question_ids: list[UUID]) -> list[AskedQuestion]:
    records = await conn.fetch(
        f"SELECT {_ASKED_COLUMNS} FROM question q WHERE q.id = ANY($1::uuid[]) "
        "ORDER BY q.created_at, q.id",
        question_ids,
    )
    return [_asked(record) for record in records]


# The network's tag vocabulary: each key with its most used spelling.
VOCABULARY = """
SELECT DISTINCT ON (tag_key) tag_key, tag
FROM (SELECT tag_key, tag, count(*) AS uses FROM member_tag WHERE tag_key <> '' GROUP BY 1, 2)
     spelled
ORDER BY tag_key, uses DESC, tag
"""


async def vocabulary(conn: Connection) -> dict[str, str]:
    return {record["tag_key"]: record["tag"] for record in await conn.fetch(VOCABULARY)}


_GAP_MEMBER = """
SELECT m.id, m.name, m.email, mu.id AS municipality_id, mu.name AS municipality_name, mu.state,
       mu.kind
FROM member m JOIN municipality mu ON mu.id = m.municipality_id
"""


def _gap_member(record: asyncpg.Record) -> GapMember:
    return GapMember(
        id=str(record["id"]), name=record["name"], municipality=municipality_from_record(record)
    )


class Recipient(NamedTuple):
    member: GapMember
    email: str | None


async def gap_members(conn: Connection, member_ids: list[UUID]) -> dict[UUID, Recipient]:
    """These members as a gap names them, with their e-mail addresses (for writing to them)."""
    records = await conn.fetch(_GAP_MEMBER + "WHERE m.id = ANY($1::uuid[])", member_ids)
    return {r["id"]: Recipient(_gap_member(r), r["email"]) for r in records}


class Contact(NamedTuple):
    question_id: UUID
    member: GapMember
    contacted_at: datetime


async def contacts(conn: Connection, question_ids: list[UUID]) -> list[Contact]:
    """Whom the coordinator wrote to about these questions, and when (latest first)."""
    records = await conn.fetch(
        """
        SELECT c.question_id, c.contacted_at, g.*
        FROM gap_contact c
        JOIN ("""
        + _GAP_MEMBER
        + """) g ON g.id = c.member_id
        WHERE c.question_id = ANY($1::uuid[])
        ORDER BY c.contacted_at DESC, g.name
        """,
        question_ids,
    )
    return [Contact(r["question_id"], _gap_member(r), r["contacted_at"]) for r in records]


class ContactOf(NamedTuple):
    question_title: str
    contacted_at: str  # ISO 8601


async def contacts_of(conn: Connection, member_id: UUID) -> list[ContactOf]:
    """When the coordinator wrote to the member about which gap questions (for their export)."""
    records = await conn.fetch(
        "SELECT q.title, c.contacted_at FROM gap_contact c JOIN question q ON q.id = c.question_id "
        "WHERE c.member_id = $1 ORDER BY c.contacted_at, q.title",
        member_id,
    )
    return [ContactOf(r["title"], r["contacted_at"].isoformat()) for r in records]


async def record_contacts(
    conn: Connection, question_ids: list[UUID], member_ids: list[UUID]
) -> None:
    await conn.execute(
        """
        INSERT INTO gap_contact (question_id, member_id)
        SELECT q, m FROM unnest($1::uuid[]) AS q, unnest($2::uuid[]) AS m
        ON CONFLICT ON CONSTRAINT gap_contact_pkey DO UPDATE SET contacted_at = now()
        """,
        question_ids,
        member_ids,
    )


# Demand by raw question tag (the caller folds spellings into one topic).
QUESTION_TAGS = f"""
SELECT tag, count(*)::int AS questions,
       count(*) FILTER (WHERE EXISTS (
           SELECT FROM outcome o WHERE o.question_id = q.id AND o.shared))::int AS outcomes
FROM question q, unnest(q.tags) AS tag
WHERE {_IN_PERIOD.format(column="q.created_at")}
GROUP BY tag
"""


async def question_tags(
    conn: Connection, since: datetime | None, until: datetime | None
) -> list[tuple[str, int, int]]:
    """Each tag of the period's questions: how many asked about it, and of them how many got a
    shared outcome."""
    return [
        (r["tag"], r["questions"], r["outcomes"])
        for r in await conn.fetch(QUESTION_TAGS, since, until)
    ]


async def with_shared_outcome(conn: Connection, question_ids: Sequence[UUID]) -> set[UUID]:
    """Which of the questions got a shared outcome."""
    records = await conn.fetch(
        "SELECT question_id FROM outcome WHERE shared AND question_id = ANY($1::uuid[])",
        list(question_ids),
    )
    return {r["question_id"] for r in records}


# Supply by normalized tag: members holding it, and of them those who take requests now.
TAG_SUPPLY = """
SELECT t.tag_key,
       count(DISTINCT m.id)::int AS members,
       count(DISTINCT m.id) FILTER (
           WHERE m.accepting_requests AND coalesce(o.open_requests, 0) < m.max_open_requests
       )::int AS accepting
FROM member_tag t
JOIN member m ON m.id = t.member_id
LEFT JOIN member_open_requests o ON o.member_id = m.id
WHERE t.tag_key = ANY($1::text[])
GROUP BY t.tag_key
"""


async def tag_supply(conn: Connection, keys: list[str]) -> dict[str, tuple[int, int]]:
    records = await conn.fetch(TAG_SUPPLY, keys)
    return {r["tag_key"]: (r["members"], r["accepting"]) for r in records}


# Every request there was: the living members' and, without anyone's identity, those of
# members who were erased since (service/members/erasure.py), so that an erasure does not
# rewrite the history.
_EVERY_REQUEST = """
    SELECT status, kind, peer_id AS peer, created_at, responded_at FROM consultation_request
    UNION ALL
    SELECT status, kind, peer_key AS peer, created_at, responded_at FROM erased_request
"""

# How the requests of the period went (invitations and offers of help alike), and the offers.
REQUESTS = f"""
SELECT
    count(*) FILTER (WHERE kind = 'offer')::int AS offers,
    count(*) FILTER (WHERE kind = 'offer' AND status = 'accepted')::int AS offers_accepted,
    count(*) FILTER (WHERE status = 'pending')::int AS pending,
    count(*) FILTER (WHERE status = 'accepted')::int AS accepted,
    count(*) FILTER (WHERE status = 'declined')::int AS declined,
    count(*) FILTER (WHERE status = 'withdrawn')::int AS withdrawn,
    count(*) FILTER (WHERE status = 'expired')::int AS expired,
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(epoch FROM responded_at - created_at) / 3600
    ) FILTER (WHERE status IN ('accepted', 'declined') AND responded_at IS NOT NULL)
        AS median_hours_to_answer,
    count(*) FILTER (
        WHERE status = 'pending' AND created_at < now() - interval '3 days'
    )::int AS open_over_3_days,
    count(*) FILTER (
        WHERE status = 'pending' AND created_at < now() - interval '7 days'
    )::int AS open_over_7_days
FROM ({_EVERY_REQUEST}) request
WHERE {_IN_PERIOD.format(column="created_at")}
"""

# The share of the period's invitations that went to the five most-invited members.
TOP_FIVE_SHARE = f"""
WITH invited AS (
    SELECT peer, count(*) AS invitations FROM ({_EVERY_REQUEST}) request
    WHERE {_IN_PERIOD.format(column="created_at")} AND kind = 'invitation'
    GROUP BY peer
)
SELECT (SELECT sum(invitations) FROM (
            SELECT invitations FROM invited ORDER BY invitations DESC LIMIT 5
        ) AS top)::float8 / nullif(sum(invitations), 0) AS share
FROM invited
"""


class RequestCounts(NamedTuple):
    offers: int
    offers_accepted: int
    pending: int
    accepted: int
    declined: int
    withdrawn: int
    expired: int
    median_hours_to_answer: float | None
    open_over_3_days: int
    open_over_7_days: int
    top5_share: float | None


async def requests(
    conn: Connection, since: datetime | None, until: datetime | None
) -> RequestCounts:
    flow = await conn.fetchrow(REQUESTS, since, until)
    assert flow is not None  # an aggregate always yields a row
    share = await conn.fetchval(TOP_FIVE_SHARE, since, until)
    median = flow["median_hours_to_answer"]
    return RequestCounts(
        offers=flow["offers"],
        offers_accepted=flow["offers_accepted"],
        pending=flow["pending"],
        accepted=flow["accepted"],
        declined=flow["declined"],
        withdrawn=flow["withdrawn"],
        expired=flow["expired"],
        median_hours_to_answer=None if median is None else float(median),
        open_over_3_days=flow["open_over_3_days"],
        open_over_7_days=flow["open_over_7_days"],
        top5_share=None if share is None else float(share),
    )


MEMBERS = """
SELECT
    count(*)::int AS total,
    count(*) FILTER (
        WHERE m.accepting_requests AND coalesce(o.open_requests, 0) < m.max_open_requests
    )::int AS accepting,
    count(*) FILTER (WHERE NOT m.accepting_requests)::int AS paused,
    count(*) FILTER (
        WHERE m.accepting_requests AND coalesce(o.open_requests, 0) >= m.max_open_requests
    )::int AS at_capacity,
    count(*) FILTER (WHERE m.signed_in_at IS NULL)::int AS never_signed_in,
    count(*) FILTER (WHERE m.updated_at < now() - interval '12 months')::int AS stale
FROM member m
LEFT JOIN member_open_requests o ON o.member_id = m.id
"""

BY_STATE = """
SELECT mu.state, count(*)::int AS members
FROM member m JOIN municipality mu ON mu.id = m.municipality_id
GROUP BY mu.state ORDER BY members DESC, mu.state
"""

BY_KIND = """
SELECT coalesce(mu.kind, '') AS kind, count(*)::int AS members
FROM member m JOIN municipality mu ON mu.id = m.municipality_id
GROUP BY 1 ORDER BY members DESC, 1
"""

SINGLE_MEMBER_MUNICIPALITIES = """
SELECT mu.id, mu.name, mu.state, mu.kind
FROM municipality mu JOIN member m ON m.municipality_id = mu.id
GROUP BY mu.id HAVING count(*) = 1
ORDER BY mu.state, mu.name
"""


async def members(conn: Connection) -> Reach:
    """Who is reachable, by state and kind of municipality."""
    counts = await conn.fetchrow(MEMBERS)
    assert counts is not None  # an aggregate always yields a row
    return Reach(
        total=counts["total"],
        accepting=counts["accepting"],
        paused=counts["paused"],
        at_capacity=counts["at_capacity"],
        never_signed_in=counts["never_signed_in"],
        stale=counts["stale"],
        by_state=[
            StateCount(state=r["state"], members=r["members"]) for r in await conn.fetch(BY_STATE)
        ],
        by_kind=[
            KindCount(kind=r["kind"], members=r["members"]) for r in await conn.fetch(BY_KIND)
        ],
        single_member_municipalities=[
            Municipality(id=str(r["id"]), name=r["name"], state=r["state"], kind=r["kind"])
            for r in await conn.fetch(SINGLE_MEMBER_MUNICIPALITIES)
        ],
    )


async def question_titles(conn: Connection, question_ids: list[UUID]) -> dict[UUID, str]:
    """The titles of these questions (for the coordinator's page)."""
    records = await conn.fetch(
        "SELECT id, title FROM question WHERE id = ANY($1::uuid[])", question_ids
    )
    return {record["id"]: record["title"] for record in records}
