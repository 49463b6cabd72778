"""The coordinator's insights: gaps (topics nobody in the network covers well), demand and
supply by topic, how invitations flow, and who is reachable. Computed on request, in a few
statements that aggregate in PostgreSQL.

Gaps are judged against the network as it is now: the questions that were gaps when they were
asked (at most ``MAX_GAP_QUESTIONS``, the most recent) are embedded again and ranked through the
same bounded retrieval as a new question, so that a colleague who joins or extends their
profile closes a gap without anyone asking again; those covered now are the closed gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from models.insights import (
    ClosedGap,
    Gap,
    GapContact,
    GapContactRequest,
    GapContactResult,
    GapMember,
    Insights,
    RequestFlow,
    Topic,
)
from models.questions import Fit
from service import identity
from service.db import Connection
from service.embedding import Embedder
from service.errors import NotFound
from service.insights import gaps, repository
from service.matching import fit
from service.matching.rank import Ranking
from service.matching.tags import clean_tag, normalize_tag
from service.notifications import messages, outbox, reach
from service.notifications.mailing import Mailing
from service.questions import service as questions_service

MAX_GAP_QUESTIONS = 100
CLOSEST_MEMBERS = 3


@dataclass(frozen=True, slots=True)
class _Assessed:
    """A question that was a gap when it was asked, ranked against the network as it is now."""

    question: repository.AskedQuestion
    vector: np.ndarray
    now: Ranking
    terms: gaps.Terms

    @property
    def open(self) -> bool:
        return fit.is_gap(self.now.coverage)

    @property
    def was_gap(self) -> bool:
        return self.question.coverage is not None and fit.is_gap(self.question.coverage)


async def _assess(
    conn: Connection, embedder: Embedder, asked: Sequence[repository.AskedQuestion]
) -> list[_Assessed]:
    if not asked:
        return []
    vocabulary = await repository.vocabulary(conn)
    vectors = await asyncio.to_thread(
        embedder.embed_queries, [f"{q.title}\n{q.body}" for q in asked]
    )
    assessed = []
    for question, vector in zip(asked, vectors, strict=True):
        now = await questions_service.suggest(
            conn,
            embedder,
            asker_id=question.asker_id,
            title=question.title,
            body=question.body,
            tags=question.tags,
            limit=CLOSEST_MEMBERS,
            vector=vector,
        )
        terms = gaps.topic_terms(question.title, question.body, question.tags, vocabulary)
        assessed.append(_Assessed(question, np.asarray(vector, dtype=np.float32), now, terms))
    return assessed


def _best_members(found: Sequence[_Assessed], *, fitting_only: bool) -> list[GapMember]:
    """The members suggested now for a group's questions, those who fit best across them first
    (by the summed probability of fitting at least partly)."""
    summed: dict[str, float] = {}
    members: dict[str, GapMember] = {}
    for item in found:
        for suggestion in item.now.suggestions:
            if fitting_only and suggestion.fit is Fit.weak:
                continue
            member = suggestion.member
            summed[member.id] = summed.get(member.id, 0.0) + (
                suggestion.reasons.components.fits_partly or 0.0
            )
            members[member.id] = GapMember(
                id=member.id, name=member.name, municipality=member.municipality
            )
    best = sorted(summed, key=lambda member_id: (-summed[member_id], members[member_id].name))
    return [members[member_id] for member_id in best[:CLOSEST_MEMBERS]]


def _contacted(
    found: Sequence[_Assessed], contacts: Sequence[repository.Contact]
) -> list[GapContact]:
    ids = {item.question.id for item in found}
    latest: dict[str, GapContact] = {}
    for contact in contacts:  # latest first
        if contact.question_id in ids and contact.member.id not in latest:
            latest[contact.member.id] = GapContact(
                member=contact.member, contacted_at=contact.contacted_at
            )
    return list(latest.values())


def _groups(found: Sequence[_Assessed]) -> list[list[_Assessed]]:
    if not found:
        return []
    vectors = np.stack([item.vector for item in found])
    return [
        [found[index] for index in group]
        for group in gaps.topics(vectors, [item.terms for item in found])
    ]


async def _gaps(
    conn: Connection,
    embedder: Embedder,
    since: datetime | None,
    until: datetime | None,
) -> tuple[list[Gap], list[ClosedGap]]:
    asked = await repository.gap_questions(
        conn, since, until, covered_from=fit.FIT_MODEL.covered_from, limit=MAX_GAP_QUESTIONS
    )
    assessed = await _assess(conn, embedder, asked)
    if not assessed:
        return [], []
    contacts = await repository.contacts(conn, [item.question.id for item in assessed])
    worked_out = await repository.with_shared_outcome(conn, [item.question.id for item in assessed])
    still_open = [item for item in assessed if item.open]
    closed = [item for item in assessed if not item.open and item.was_gap]
    found = []
    for group in _groups(still_open):
        scores = [s.reasons.components.relevance for item in group for s in item.now.suggestions]
        found.append(
            Gap(
                label=gaps.label([item.terms for item in group]),
                question_ids=[str(item.question.id) for item in group],
                questions=len(group),
                best_score=round(max(scores), 4) if scores else None,
                closest=_best_members(group, fitting_only=False),
                contacted=_contacted(group, contacts),
                shared_outcomes=sum(item.question.id in worked_out for item in group),
            )
        )
    closed_gaps = [
        ClosedGap(
            label=gaps.label([item.terms for item in group]),
            question_ids=[str(item.question.id) for item in group],
            questions=len(group),
            covered_by=_best_members(group, fitting_only=True),
            contacted=_contacted(group, contacts),
            shared_outcomes=sum(item.question.id in worked_out for item in group),
        )
        for group in _groups(closed)
    ]
    return found, closed_gaps


async def _topics(
    conn: Connection, since: datetime | None, until: datetime | None, found: list[Gap]
) -> list[Topic]:
    demand: dict[str, int] = {}
    worked_out: dict[str, int] = {}
    shown: dict[str, str] = {}
    for tag, count, outcomes in await repository.question_tags(conn, since, until):
        key = normalize_tag(tag)
        if key:
            demand[key] = demand.get(key, 0) + count
            worked_out[key] = worked_out.get(key, 0) + outcomes
            shown.setdefault(key, clean_tag(tag))
    supply = await repository.tag_supply(conn, list(demand))
    topics = [
        Topic(
            topic=shown[key],
            questions=count,
            members=supply.get(key, (0, 0))[0],
            accepting=supply.get(key, (0, 0))[1],
            outcomes=worked_out.get(key, 0),
        )
        for key, count in demand.items()
    ]
    # A gap is a topic too: asked about, and covered by nobody well enough.
    topics += [
        Topic(
            topic=gap.label,
            questions=gap.questions,
            members=0,
            accepting=0,
            outcomes=gap.shared_outcomes,
        )
        for gap in found
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
        offers=flow.offers,
        offers_accepted=flow.offers_accepted,
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
    found, closed = await _gaps(conn, embedder, since, until)
    return Insights(
        generated_at=datetime.now(UTC),
        since=since,
        until=until,
        gaps=found,
        closed_gaps=closed,
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


async def contact_closest(
    conn: Connection,
    mailing: Mailing,
    coordinator: identity.CoordinatorPrincipal,
    request: GapContactRequest,
) -> GapContactResult:
    """Write to colleagues about gap questions (in German, through the outbox): the topic, the
    questions' titles (not who asked them), and where to extend their profile. Each contact is
    kept, so that the gap shows whom the coordinator wrote to and when."""
    question_ids = [UUID(question_id) for question_id in dict.fromkeys(request.question_ids)]
    member_ids = [UUID(member_id) for member_id in dict.fromkeys(request.member_ids)]
    questions = await repository.questions_by_id(conn, question_ids)
    if len(questions) < len(question_ids):
        missing = set(question_ids) - {q.id for q in questions}
        raise NotFound(f"No question with id {sorted(map(str, missing))[0]}.")
    recipients = await repository.gap_members(conn, member_ids)
    if len(recipients) < len(member_ids):
        missing = set(member_ids) - set(recipients)
        raise NotFound(f"No member with id {sorted(map(str, missing))[0]}.")
    vocabulary = await repository.vocabulary(conn)
    topic = (
        gaps.label([gaps.topic_terms(q.title, q.body, q.tags, vocabulary) for q in questions])
        or questions[0].title
    )
    reached = [member_id for member_id in member_ids if recipients[member_id].email]
    for member_id in reached:
        recipient = recipients[member_id]
        assert recipient.email is not None
        await outbox.enqueue(
            conn,
            recipient=recipient.email,
            message=reach.gap_help(
                name=recipient.member.name,
                topic=topic,
                question_titles=[q.title for q in questions],
                link=mailing.link("/profil"),
                note=request.message,
            ),
            kind=messages.GAP_HELP,
            member_id=member_id,
        )
    await repository.record_contacts(conn, question_ids, reached)
    return GapContactResult(
        contacted=[recipients[member_id].member for member_id in reached],
        without_email=[
            recipients[member_id].member for member_id in member_ids if member_id not in reached
        ],
    )
