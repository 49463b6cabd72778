"""All SQL about open questions: whom an open question is shown to (its audience: every
colleague who fits it, computed when it is opened), and the open questions shown to a member."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from models.questions import OpenQuestion, OpenQuestionMatch, Reasons, Suggestion
from models.requests import Party
from service.db import Connection
from service.members.repository import municipality_from_record


async def set_open(conn: Connection, question_id: UUID, audience: Sequence[Suggestion]) -> None:
    """Open the question to ``audience`` (who fits it, with how well and why), replacing any
    earlier audience."""
    await conn.execute("DELETE FROM question_audience WHERE question_id = $1", question_id)
    await conn.execute(
        """
        INSERT INTO question_audience (question_id, member_id, score, reasons)
        SELECT $1, a.member_id, a.score, a.reasons::jsonb
        FROM unnest($2::uuid[], $3::real[], $4::text[]) AS a(member_id, score, reasons)
        """,
        question_id,
        [UUID(member.member.id) for member in audience],
        [member.score for member in audience],
        [member.reasons.model_dump_json() for member in audience],
    )
    await conn.execute(
        "UPDATE question SET open = true, opened_at = now() WHERE id = $1", question_id
    )


async def close(conn: Connection, question_id: UUID) -> None:
    """Close the question: it leaves every list (and its audience is forgotten)."""
    await conn.execute("UPDATE question SET open = false WHERE id = $1", question_id)
    await conn.execute("DELETE FROM question_audience WHERE question_id = $1", question_id)


# The open questions of the last $4 days shown to each member of $1 (since their own moment in
# $2, when it was opened to them), best fitting first, at most $3 each: only where the member
# may be suggested to the asker now (another municipality, accepting requests, below capacity)
# and has no request on the question yet (invited, or offered already). One statement for one
# member (the page) and for a batch of them (the digests).
OPEN_FOR_MEMBERS = """
SELECT * FROM (
    SELECT me.id AS reader_id, q.id, q.title, q.body, q.tags, q.created_at, qa.score,
           qa.reasons, a.id AS asker_id, a.name AS asker_name,
           mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
           row_number() OVER (PARTITION BY me.id
                              ORDER BY qa.score DESC, q.opened_at DESC, q.id) AS place
    FROM unnest($1::uuid[], $2::timestamptz[]) AS reader(member_id, since)
    JOIN member me ON me.id = reader.member_id
    JOIN question_audience qa ON qa.member_id = me.id AND qa.created_at > reader.since
    JOIN question q ON q.id = qa.question_id
    JOIN member a ON a.id = q.asker_id
    JOIN municipality mu ON mu.id = a.municipality_id
    WHERE q.open AND q.opened_at > now() - make_interval(days => $4)
      AND a.municipality_id <> me.municipality_id
      AND me.accepting_requests
      AND coalesce((SELECT o.open_requests FROM member_open_requests o
                    WHERE o.member_id = me.id), 0) < me.max_open_requests
      AND NOT EXISTS (SELECT FROM consultation_request r
                      WHERE r.question_id = q.id AND r.peer_id = me.id)
) shown
WHERE place <= $3
ORDER BY reader_id, place
"""
_EVER = datetime.min.replace(tzinfo=UTC)


def _match(record: asyncpg.Record) -> OpenQuestionMatch:
    return OpenQuestionMatch(
        question=OpenQuestion(
            id=str(record["id"]),
            title=record["title"],
            body=record["body"],
            tags=list(record["tags"]),
            created_at=record["created_at"],
            asker=Party(
                id=str(record["asker_id"]),
                name=record["asker_name"],
                municipality=municipality_from_record(record),
            ),
        ),
        score=round(float(record["score"]), 4),
        reasons=Reasons.model_validate(json.loads(record["reasons"])),
    )


async def open_for(
    conn: Connection, member_id: UUID, *, limit: int, days: int
) -> list[OpenQuestionMatch]:
    """The open questions shown to the member now, best first."""
    return (await open_for_members(conn, {member_id: _EVER}, limit=limit, days=days)).get(
        member_id, []
    )


async def open_for_members(
    conn: Connection, since: Mapping[UUID, datetime], *, limit: int, days: int
) -> dict[UUID, list[OpenQuestionMatch]]:
    """For each member (a key of ``since``), the open questions opened to them after their
    moment in ``since``, best first, at most ``limit``; members with none are left out."""
    records = await conn.fetch(OPEN_FOR_MEMBERS, list(since), list(since.values()), limit, days)
    found: dict[UUID, list[OpenQuestionMatch]] = {}
    for record in records:
        found.setdefault(record["reader_id"], []).append(_match(record))
    return found


async def size(conn: Connection, question_id: UUID) -> int:
    """How many colleagues the open question is shown to."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM question_audience WHERE question_id = $1", question_id
    )
    return count


async def audience_of(conn: Connection, member_id: UUID) -> list[dict[str, object]]:
    """The open questions the member was shown (for their export): ids, how well, when."""
    records = await conn.fetch(
        "SELECT question_id, score, created_at FROM question_audience WHERE member_id = $1 "
        "ORDER BY created_at",
        member_id,
    )
    return [
        {
            "question_id": str(r["question_id"]),
            "score": round(float(r["score"]), 4),
            "created_at": r["created_at"].isoformat(),
        }
        for r in records
    ]
