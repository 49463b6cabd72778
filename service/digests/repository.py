"""All SQL of the digests: who has something new, what waits for their answer, that a member's
digest of a period went out, and the key that signs the unsubscribe links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from models.members import DigestFrequency
from models.requests import RequestKind
from service.db import Connection

# The members with digest $1 who have something new since their last digest (or since they
# joined), and no digest of period $2 yet: an open question opened to them, an invitation to
# them or an offer on their question, each waiting; only what came after $3 (the period before
# this one began) is read, through the indexes on the audience's and the pending requests' times,
# so the work follows what happened in the network, not its number of members.
DUE = """
WITH news AS (
    SELECT qa.member_id, qa.created_at AS at
    FROM question_audience qa JOIN question q ON q.id = qa.question_id
    WHERE qa.created_at > $3 AND q.open
    UNION ALL
    SELECT r.peer_id, r.created_at FROM consultation_request r
    WHERE r.status = 'pending' AND r.expires_at > now() AND r.kind = 'invitation'
      AND r.created_at > $3
    UNION ALL
    SELECT r.asker_id, r.created_at FROM consultation_request r
    WHERE r.status = 'pending' AND r.expires_at > now() AND r.kind = 'offer'
      AND r.created_at > $3
)
SELECT DISTINCT m.id, m.name, m.email, since.at AS since
FROM news
JOIN member m ON m.id = news.member_id
-- New since the last digest, or since (and with) the moment they joined.
CROSS JOIN LATERAL (
    SELECT coalesce(m.digest_sent_at, m.created_at - interval '1 millisecond') AS at
) since
WHERE m.digest = $1 AND m.email IS NOT NULL
  AND news.at > since.at
  AND NOT EXISTS (SELECT FROM digest_run d WHERE d.member_id = m.id AND d.period = $2)
ORDER BY m.id
"""


async def due(
    conn: Connection, frequency: DigestFrequency, period: str, *, after: datetime
) -> list[tuple[UUID, str, str, datetime]]:
    """``DUE``: (member id, name, e-mail, new since)."""
    records = await conn.fetch(DUE, frequency.value, period, after)
    return [(r["id"], r["name"], r["email"], r["since"]) for r in records]


# The requests waiting for an answer from each member of $1: invitations to them, and offers on
# their questions; with the question's title and who is on the other side.
WAITING = """
SELECT r.peer_id AS reader_id, r.id, r.kind, r.created_at, q.title,
       other.name AS other_name, place.name AS other_municipality
FROM consultation_request r
JOIN question q ON q.id = r.question_id
JOIN member other ON other.id = r.asker_id
JOIN municipality place ON place.id = other.municipality_id
WHERE r.peer_id = ANY($1::uuid[]) AND r.kind = 'invitation'
  AND r.status = 'pending' AND r.expires_at > now()
UNION ALL
SELECT r.asker_id, r.id, r.kind, r.created_at, q.title, other.name, place.name
FROM consultation_request r
JOIN question q ON q.id = r.question_id
JOIN member other ON other.id = r.peer_id
JOIN municipality place ON place.id = other.municipality_id
WHERE r.asker_id = ANY($1::uuid[]) AND r.kind = 'offer'
  AND r.status = 'pending' AND r.expires_at > now()
ORDER BY 1, 4
"""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request waiting for its reader's answer, as a digest lists it."""

    id: UUID
    kind: RequestKind
    created_at: datetime
    question_title: str
    other_name: str
    other_municipality: str


async def waiting(conn: Connection, member_ids: Sequence[UUID]) -> dict[UUID, list[Waiting]]:
    """``WAITING``, by member; members with nothing waiting are left out."""
    found: dict[UUID, list[Waiting]] = {}
    for r in await conn.fetch(WAITING, list(member_ids)):
        found.setdefault(r["reader_id"], []).append(
            Waiting(
                id=r["id"],
                kind=RequestKind(r["kind"]),
                created_at=r["created_at"],
                question_title=r["title"],
                other_name=r["other_name"],
                other_municipality=r["other_municipality"],
            )
        )
    return found


async def claim(conn: Connection, member_ids: Sequence[UUID], period: str) -> set[UUID]:
    """Record the members' digests of the period, in the transaction that queues them; those
    recorded already (by another worker, or an earlier call) are left out of the answer, so that
    nobody's is sent twice."""
    claimed = await conn.fetch(
        """
        WITH claimed AS (
            INSERT INTO digest_run (member_id, period) SELECT unnest($1::uuid[]), $2
            ON CONFLICT ON CONSTRAINT digest_run_pkey DO NOTHING
            RETURNING member_id
        )
        UPDATE member SET digest_sent_at = now() FROM claimed
        WHERE member.id = claimed.member_id
        RETURNING member.id
        """,
        list(member_ids),
        period,
    )
    return {record["id"] for record in claimed}


async def period_done(conn: Connection, period: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM digest_period WHERE period = $1", period))


async def mark_period_done(conn: Connection, period: str) -> None:
    await conn.execute(
        "INSERT INTO digest_period (period) VALUES ($1) ON CONFLICT DO NOTHING", period
    )


async def unsubscribe_key(conn: Connection) -> bytes:
    key: bytes = await conn.fetchval("SELECT key FROM server_key WHERE name = 'unsubscribe'")
    return bytes(key)


async def unsubscribe(conn: Connection, member_id: UUID) -> bool:
    """Set the member's digest to never; False when there is no such member."""
    result = await conn.execute("UPDATE member SET digest = 'never' WHERE id = $1", member_id)
    return result.split()[-1] != "0"


async def purge_runs(conn: Connection, *, older_than: timedelta) -> int:
    """Forget which digests went out in periods long over (and which periods were done);
    returns how many members' records were deleted."""
    await conn.execute(
        "DELETE FROM digest_period WHERE completed_at < now() - $1::interval", older_than
    )
    result = await conn.execute(
        "DELETE FROM digest_run WHERE created_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])
