"""The coordinator's insights: gaps (topics the network could not answer well), demand and
supply by topic, how invitations flow, and who is reachable. Computed on request, in a few
statements that aggregate in PostgreSQL; only the questions not answered well are embedded
again, to group them by topic (at most ``MAX_GAP_QUESTIONS``, the most recent)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from models.insights import (
    Gap,
    Insights,
    RequestFlow,
    Topic,
)
from service import identity
from service.db import Connection
from service.embedding import Embedder
from service.insights import gaps, repository
from service.matching.tags import clean_tag, normalize_tag

MAX_GAP_QUESTIONS = 500
CLOSEST_MEMBERS = 3


async def _gaps(
    conn: Connection, embedder: Embedder, asked: list[repository.AskedQuestion]
) -> list[Gap]:
    flagged = [q for q in asked if gaps.poorly_answered(q.best_relevance)][-MAX_GAP_QUESTIONS:]
    if not flagged:
        return []
    texts = [f"{q.title}\n{q.body}" for q in flagged]
    vectors = await asyncio.to_thread(embedder.embed_queries, texts)
    found = []
    for group in gaps.topics(np.asarray(vectors, dtype=np.float32)):
        members = [flagged[index] for index in group]
        scores = [q.best_relevance for q in members if q.best_relevance is not None]
        closest = await repository.closest(conn, [q.id for q in members], CLOSEST_MEMBERS)
        found.append(
            Gap(
                label=gaps.label([texts[index] for index in group]),
                question_ids=[str(q.id) for q in members],
                questions=len(members),
                best_score=round(max(scores), 4) if scores else None,
                closest=closest,
            )
        )
    return found


async def _topics(
    conn: Connection, since: datetime | None, until: datetime | None, found: list[Gap]
) -> list[Topic]:
    demand: dict[str, int] = {}
    shown: dict[str, str] = {}
    for tag, count in await repository.question_tags(conn, since, until):
        key = normalize_tag(tag)
        if key:
            demand[key] = demand.get(key, 0) + count
            shown.setdefault(key, clean_tag(tag))
    supply = await repository.tag_supply(conn, list(demand))
    topics = [
        Topic(
            topic=shown[key],
            questions=count,
            members=supply.get(key, (0, 0))[0],
            accepting=supply.get(key, (0, 0))[1],
        )
        for key, count in demand.items()
    ]
    # A gap is a topic too: asked about, and covered by nobody well enough.
    topics += [
        Topic(topic=gap.label, questions=gap.questions, members=0, accepting=0) for gap in found
    ]
    return sorted(topics, key=lambda t: (-t.questions, t.accepting, t.topic))


async def _requests(
    conn: Connection, since: datetime | None, until: datetime | None
) -> RequestFlow:
    flow = await repository.requests(conn, since, until)
    settled = flow.accepted + flow.declined + flow.expired
    median = flow.median_hours_to_answer
    return RequestFlow(
        pending=flow.pending,
        accepted=flow.accepted,
        declined=flow.declined,
        withdrawn=flow.withdrawn,
        expired=flow.expired,
        acceptance_rate=round(flow.accepted / settled, 4) if settled else None,
        median_hours_to_answer=None if median is None else round(median, 2),
        open_over_3_days=flow.open_over_3_days,
        open_over_7_days=flow.open_over_7_days,
        top5_share=None if flow.top5_share is None else round(flow.top5_share, 4),
    )


async def insights(
    conn: Connection,
    embedder: Embedder,
    coordinator: identity.CoordinatorPrincipal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Insights:
    """The network's insights over a period of questions and invitations (open ends: all)."""
    asked = await repository.questions(conn, since, until)
    found = await _gaps(conn, embedder, asked)
    return Insights(
        generated_at=datetime.now(UTC),
        since=since,
        until=until,
        gaps=found,
        topics=await _topics(conn, since, until, found),
        requests=await _requests(conn, since, until),
        members=await repository.members(conn),
    )


async def question_titles(
    conn: Connection, coordinator: identity.CoordinatorPrincipal, question_ids: list[str]
) -> dict[str, str]:
    """The titles of the gaps' questions, for the coordinator (members never see others')."""
    found = await repository.question_titles(conn, [UUID(qid) for qid in question_ids])
    return {str(question_id): title for question_id, title in found.items()}
