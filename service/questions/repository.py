"""All SQL about questions, the suggestions made for them, and the drafts kept while their
author signs in again (candidate retrieval: ``retrieval.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict
from uuid import UUID

import asyncpg

from models.questions import Question, Reasons, SuggestedMember, Suggestion
from service.db import Connection
from service.matching import fit
from service.members.repository import municipality_from_record

_COLUMNS = "id, asker_id, title, body, tags, created_at, coverage, open"

# A question with the suggestions made when it was asked: $1 asker, $2 title, $3 body, $4 tags,
# $5-$7 the suggestions' member ids, scores and reasons (JSON), best first, $8 model, $9 how well
# its best candidate fits it (``rank.Ranking.coverage``).
INSERT_QUESTION = f"""
WITH asked AS (
    INSERT INTO question (asker_id, title, body, tags, coverage) VALUES ($1, $2, $3, $4, $9)
    RETURNING {_COLUMNS}
), suggested AS (
    INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model, source)
    SELECT asked.id, s.member_id, s.rank, s.score, s.reasons::jsonb, $8, 'asked'
    FROM asked, unnest($5::uuid[], $6::real[], $7::text[])
         WITH ORDINALITY AS s(member_id, score, reasons, rank)
)
SELECT {_COLUMNS} FROM asked
"""

# Suggestions shown again for question $1 ($2-$4 as $5-$7 above, $5 model, $6 source); the
# first showing of a member for a question is kept.
INSERT_SUGGESTIONS = """
INSERT INTO suggestion (question_id, member_id, rank, score, reasons, model, source)
SELECT $1, s.member_id, s.rank, s.score, s.reasons::jsonb, $5, $6
FROM unnest($2::uuid[], $3::real[], $4::text[])
     WITH ORDINALITY AS s(member_id, score, reasons, rank)
ON CONFLICT ON CONSTRAINT suggestion_pkey DO NOTHING
"""

STORED_SUGGESTIONS = """
SELECT s.score, s.reasons, m.id, m.name, m.role,
       mu.id AS municipality_id, mu.name AS municipality_name, mu.state, mu.kind,
       coalesce((SELECT array_agg(t.tag ORDER BY t.position) FROM member_tag t
                 WHERE t.member_id = m.id), '{}') AS tags
FROM suggestion s
JOIN member m ON m.id = s.member_id
JOIN municipality mu ON mu.id = m.municipality_id
WHERE s.question_id = $1 AND s.source = 'asked'
ORDER BY s.rank
"""


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    id: UUID
    asker_id: UUID
    title: str
    body: str
    tags: list[str]
    created_at: datetime
    # How well the best candidate fitted the question when it was asked (None: asked before
    # fits were estimated).
    coverage: float | None
    open: bool = False


def _suggestion_arrays(
    suggestions: Sequence[Suggestion],
) -> tuple[list[UUID], list[float], list[str]]:
    """The member ids, scores and reasons (JSON) of ``suggestions``, best first."""
    return (
        [UUID(suggestion.member.id) for suggestion in suggestions],
        [suggestion.score for suggestion in suggestions],
        [suggestion.reasons.model_dump_json() for suggestion in suggestions],
    )


async def insert_question(
    conn: Connection,
    *,
    asker_id: UUID,
    title: str,
    body: str,
    tags: Sequence[str],
    suggestions: Sequence[Suggestion],
    coverage: float,
    model: str,
) -> StoredQuestion:
    """Store a question with the suggestions made when it was asked, in one statement."""
    record = await conn.fetchrow(
        INSERT_QUESTION,
        asker_id,
        title,
        body,
        list(tags),
        *_suggestion_arrays(suggestions),
        model,
        coverage,
    )
    assert record is not None
    return StoredQuestion(**dict(record))


async def store_suggestions(
    conn: Connection,
    question_id: UUID,
    suggestions: Sequence[Suggestion],
    *,
    model: str,
    source: str,
) -> None:
    """Record what was suggested again (for feedback and analytics)."""
    await conn.execute(
        INSERT_SUGGESTIONS, question_id, *_suggestion_arrays(suggestions), model, source
    )


async def get_question(conn: Connection, question_id: UUID) -> StoredQuestion | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM question WHERE id = $1",
        question_id,
    )
    return None if record is None else StoredQuestion(**dict(record))


async def stored_suggestions(conn: Connection, question_id: UUID) -> list[Suggestion]:
    """The suggestions made when the question was asked, best first (erased members are gone)."""
    records = await conn.fetch(STORED_SUGGESTIONS, question_id)
    return [_stored_suggestion(record) for record in records]


def _stored_suggestion(record: asyncpg.Record) -> Suggestion:
    reasons = Reasons.model_validate(json.loads(record["reasons"]))
    partly, clearly = reasons.components.fits_partly, reasons.components.fits_clearly
    return Suggestion(
        member=SuggestedMember(
            id=str(record["id"]),
            name=record["name"],
            municipality=municipality_from_record(record),
            role=record["role"],
            tags=list(record["tags"]),
        ),
        score=min(1.0, max(0.0, float(record["score"]))),
        fit=None if partly is None or clearly is None else fit.fit_of(partly, clearly),
        reasons=reasons,
    )


async def questions_of(conn: Connection, asker_id: UUID) -> list[StoredQuestion]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM question WHERE asker_id = $1 ORDER BY created_at",
        asker_id,
    )
    return [StoredQuestion(**dict(record)) for record in records]


def question_schema(stored: StoredQuestion, suggestions: list[Suggestion]) -> Question:
    return Question(
        id=str(stored.id),
        asker_id=str(stored.asker_id),
        title=stored.title,
        body=stored.body,
        tags=list(stored.tags),
        created_at=stored.created_at,
        open=stored.open,
        gap=None if stored.coverage is None else fit.is_gap(stored.coverage),
        suggestions=suggestions,
    )


class Appearance(TypedDict):
    """Where a member was suggested: the question's id, the rank and score, and when."""

    question_id: str
    rank: int
    score: float
    source: str
    created_at: str


async def appearances_of(conn: Connection, member_id: UUID) -> list[Appearance]:
    """Where the member was suggested to others (ids, rank and time; not others' questions)."""
    records = await conn.fetch(
        "SELECT question_id, rank, score, source, created_at FROM suggestion "
        "WHERE member_id = $1 ORDER BY created_at",
        member_id,
    )
    return [
        Appearance(
            question_id=str(record["question_id"]),
            rank=record["rank"],
            score=float(record["score"]),
            source=record["source"],
            created_at=record["created_at"].isoformat(),
        )
        for record in records
    ]


async def count_recent(conn: Connection, *, days: int) -> int:
    """Questions asked in the last ``days`` days, network-wide."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM question WHERE created_at > now() - make_interval(days => $1)", days
    )
    return count


async def save_draft(
    conn: Connection,
    *,
    member_id: UUID,
    title: str,
    body: str,
    tags: Sequence[str],
    kept_per_member: int,
) -> UUID:
    """Keep a question whose author's session ended while they wrote it; of the member's
    drafts only the newest ``kept_per_member`` stay."""
    draft_id: UUID = await conn.fetchval(
        """
        INSERT INTO question_draft (member_id, title, body, tags, created_at)
        VALUES ($1, $2, $3, $4, clock_timestamp())
        RETURNING id
        """,
        member_id,
        title,
        body,
        list(tags),
    )
    await conn.execute(
        """
        DELETE FROM question_draft WHERE member_id = $1 AND id NOT IN (
            SELECT id FROM question_draft WHERE member_id = $1
            ORDER BY created_at DESC, id LIMIT $2)
        """,
        member_id,
        kept_per_member,
    )
    return draft_id


async def take_draft(
    conn: Connection, member_id: UUID, draft_id: UUID
) -> tuple[str, str, list[str]] | None:
    """The member's kept question (title, body, tags), which is then deleted."""
    record = await conn.fetchrow(
        """
        DELETE FROM question_draft WHERE id = $1 AND member_id = $2
        RETURNING title, body, tags
        """,
        draft_id,
        member_id,
    )
    return None if record is None else (record["title"], record["body"], list(record["tags"]))


async def purge_drafts(conn: Connection, *, older_than: timedelta) -> int:
    result = await conn.execute(
        "DELETE FROM question_draft WHERE created_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])
