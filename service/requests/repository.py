"""All SQL about consultation requests and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg

from models.members import Municipality
from models.requests import RequestKind, RequestStatus
from service.db import Connection

# A request as its parties see it. An invitation past its expiry reads as expired at once,
# whether or not the housekeeping round has written that down yet (``expire_overdue``): reads
# never write, so they never wait for or lock each other.
_REQUEST_SELECT = """
    SELECT r.id, r.question_id, r.asker_id, r.peer_id, r.kind, r.named,
           CASE WHEN r.status = 'pending' AND r.expires_at <= now() THEN 'expired'
                ELSE r.status END AS status,
           r.message, r.created_at, r.expires_at,
           CASE WHEN r.status = 'pending' AND r.expires_at <= now() THEN r.expires_at
                ELSE r.responded_at END AS responded_at,
           q.title AS question_title, q.body AS question_body,
           a.name AS asker_name, a.email AS asker_email,
           am.id AS asker_municipality_id, am.name AS asker_municipality_name,
           am.state AS asker_state, am.kind AS asker_kind,
           p.name AS peer_name, p.email AS peer_email,
           pm.id AS peer_municipality_id, pm.name AS peer_municipality_name,
           pm.state AS peer_state, pm.kind AS peer_kind,
           f.helpful, f.comment, f.created_at AS feedback_at
    FROM consultation_request r
    JOIN question q ON q.id = r.question_id
    JOIN member a ON a.id = r.asker_id
    JOIN municipality am ON am.id = a.municipality_id
    JOIN member p ON p.id = r.peer_id
    JOIN municipality pm ON pm.id = p.municipality_id
    LEFT JOIN feedback f ON f.request_id = r.id
"""


@dataclass(frozen=True, slots=True)
class Invitee:
    """What decides whether a member may be invited by an asker."""

    id: UUID
    name: str
    email: str | None
    same_municipality: bool
    accepting_requests: bool
    open_requests: int
    max_open_requests: int

    @property
    def has_capacity(self) -> bool:
        return self.open_requests < self.max_open_requests


async def expire_overdue(conn: Connection) -> int:
    """Pending requests past their expiry are stored as 'expired' (they read so already, and
    the view of load ignores them); returns how many. The housekeeping round does this."""
    result = await conn.execute(
        "UPDATE consultation_request SET status = 'expired', responded_at = expires_at "
        "WHERE status = 'pending' AND expires_at <= now()"
    )
    return int(result.split()[-1])


async def invitees(
    conn: Connection, *, asker_id: UUID, member_ids: Sequence[UUID]
) -> dict[UUID, Invitee]:
    """The named members, locked in the order of their ids (as every lock on several members
    is taken), so that concurrent invitations count capacity correctly. NO KEY UPDATE: rows
    that refer to a member (a question's suggestions) are not waited for (see
    ``members.repository``)."""
    records = await conn.fetch(
        """
        SELECT m.id, m.name, m.email, m.accepting_requests, m.max_open_requests,
               m.municipality_id = (SELECT municipality_id FROM member WHERE id = $1)
                   AS same_municipality,
               coalesce((SELECT o.open_requests FROM member_open_requests o
                         WHERE o.member_id = m.id), 0) AS open_requests
        FROM member m WHERE m.id = ANY($2::uuid[])
        ORDER BY m.id
        FOR NO KEY UPDATE OF m
        """,
        asker_id,
        list(member_ids),
    )
    return {
        record["id"]: Invitee(
            id=record["id"],
            name=record["name"],
            email=record["email"],
            same_municipality=record["same_municipality"],
            accepting_requests=record["accepting_requests"],
            open_requests=record["open_requests"],
            max_open_requests=record["max_open_requests"],
        )
        for record in records
    }


async def invited_already(conn: Connection, question_id: UUID) -> set[UUID]:
    records = await conn.fetch(
        "SELECT peer_id FROM consultation_request WHERE question_id = $1", question_id
    )
    return {record["peer_id"] for record in records}


async def insert_request(
    conn: Connection,
    *,
    question_id: UUID,
    asker_id: UUID,
    peer_id: UUID,
    message: str | None,
    expiry_days: int,
    kind: RequestKind = RequestKind.invitation,
) -> UUID | None:
    """The new request's id; None when the colleague has a request on this question already
    (one that committed while this one waited: a form sent twice)."""
    request_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO consultation_request (question_id, asker_id, peer_id, message, expires_at,
                                          kind)
        VALUES ($1, $2, $3, $4, now() + make_interval(days => $5), $6)
        ON CONFLICT ON CONSTRAINT consultation_request_question_peer_key DO NOTHING
        RETURNING id
        """,
        question_id,
        asker_id,
        peer_id,
        message,
        expiry_days,
        kind.value,
    )
    return request_id


_REQUEST_BY_ID = _REQUEST_SELECT + " WHERE r.id = $1"
# The same, locking the request row for a change of its status.
_REQUEST_BY_ID_FOR_UPDATE = _REQUEST_BY_ID + " FOR UPDATE OF r"
# A member's ($1) requests: those for them to answer when $2 (invitations to them, offers of
# help on their questions), their own when $3 (their invitations, their offers); newest first.
_REQUESTS_OF_MEMBER = (
    _REQUEST_SELECT
    + """
    WHERE ($2 AND ((r.peer_id = $1 AND r.kind = 'invitation')
                   OR (r.asker_id = $1 AND r.kind = 'offer')))
       OR ($3 AND ((r.asker_id = $1 AND r.kind = 'invitation')
                   OR (r.peer_id = $1 AND r.kind = 'offer')))
    ORDER BY r.created_at DESC, r.id
"""
)


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """One side of a request: the asker or the invited colleague."""

    id: UUID
    name: str
    email: str | None
    municipality: Municipality


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    helpful: int
    comment: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request as its parties see it (``_REQUEST_SELECT``)."""

    id: UUID
    question_id: UUID
    question_title: str
    question_body: str
    asker: PartyRecord
    peer: PartyRecord
    kind: RequestKind
    status: RequestStatus
    message: str | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    feedback: FeedbackRecord | None
    # The colleague appears by name on the question's shared outcome.
    named: bool = False

    def party(self, side: Side) -> PartyRecord:
        return self.asker if side == Side.asker else self.peer

    @property
    def answers(self) -> Side:
        """Who accepts or declines: the invited colleague an invitation, the asker an offer."""
        return Side.peer if self.kind == RequestKind.invitation else Side.asker

    @property
    def requests(self) -> Side:
        """Who made the request (and may withdraw it)."""
        return Side.asker if self.answers == Side.peer else Side.peer


class Side(StrEnum):
    """Who of the two is meant: the member who asked, or the colleague (invited, or offering
    help)."""

    asker = "asker"
    peer = "peer"


def _party(record: asyncpg.Record, side: Side) -> PartyRecord:
    return PartyRecord(
        id=record[f"{side}_id"],
        name=record[f"{side}_name"],
        email=record[f"{side}_email"],
        municipality=Municipality(
            id=str(record[f"{side}_municipality_id"]),
            name=record[f"{side}_municipality_name"],
            state=record[f"{side}_state"],
            kind=record[f"{side}_kind"],
        ),
    )


def _request(record: asyncpg.Record) -> RequestRecord:
    return RequestRecord(
        id=record["id"],
        question_id=record["question_id"],
        question_title=record["question_title"],
        question_body=record["question_body"],
        asker=_party(record, Side.asker),
        peer=_party(record, Side.peer),
        kind=RequestKind(record["kind"]),
        status=RequestStatus(record["status"]),
        message=record["message"],
        created_at=record["created_at"],
        expires_at=record["expires_at"],
        responded_at=record["responded_at"],
        feedback=None
        if record["helpful"] is None
        else FeedbackRecord(record["helpful"], record["comment"], record["feedback_at"]),
        named=record["named"],
    )


async def get_request(
    conn: Connection, request_id: UUID, *, for_update: bool = False
) -> RequestRecord | None:
    record = await conn.fetchrow(
        _REQUEST_BY_ID_FOR_UPDATE if for_update else _REQUEST_BY_ID, request_id
    )
    return None if record is None else _request(record)


async def list_requests(
    conn: Connection, member_id: UUID, *, incoming: bool, outgoing: bool
) -> list[RequestRecord]:
    records = await conn.fetch(_REQUESTS_OF_MEMBER, member_id, incoming, outgoing)
    return [_request(record) for record in records]


async def set_status(conn: Connection, request_id: UUID, status: str) -> None:
    await conn.execute(
        "UPDATE consultation_request SET status = $2, responded_at = now() WHERE id = $1",
        request_id,
        status,
    )


async def insert_feedback(
    conn: Connection, *, request_id: UUID, helpful: int, comment: str | None
) -> datetime:
    created_at: datetime = await conn.fetchval(
        "INSERT INTO feedback (request_id, helpful, comment) VALUES ($1, $2, $3) "
        "RETURNING created_at",
        request_id,
        helpful,
        comment,
    )
    return created_at


async def requests_of(conn: Connection, member_id: UUID) -> list[RequestRecord]:
    """Both directions, for the member's data export."""
    return await list_requests(conn, member_id, incoming=True, outgoing=True)


async def count_pending(conn: Connection) -> int:
    """Invitations waiting for an answer, network-wide."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM consultation_request WHERE status = 'pending' AND expires_at > now()"
    )
    return count
