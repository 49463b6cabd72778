"""The network at a glance, for the coordinator: counts only, nothing personal."""

from __future__ import annotations

from dataclasses import dataclass

from models.members import Member, TagCount
from service import identity
from service.db import Connection
from service.questions import repository as questions_repository
from service.requests import repository as requests_repository

TOP_TAGS = 10
RECENT_DAYS = 30


@dataclass(frozen=True, slots=True)
class NetworkOverview:
    members: int
    municipalities: int
    states: int
    open_requests: int
    recent_questions: int
    top_tags: list[TagCount]
    paused: int


async def network_overview(
    conn: Connection,
    coordinator: identity.CoordinatorPrincipal,
    members: list[Member],
    vocabulary: list[TagCount],
) -> NetworkOverview:
    """Members, municipalities and Länder, pending invitations, questions of the last
    ``RECENT_DAYS`` days, the most used tags and how many members paused."""
    return NetworkOverview(
        members=len(members),
        municipalities=len({member.municipality.id for member in members}),
        states=len({member.municipality.state.casefold() for member in members}),
        open_requests=await requests_repository.count_pending(conn),
        recent_questions=await questions_repository.count_recent(conn, days=RECENT_DAYS),
        top_tags=vocabulary[:TOP_TAGS],
        paused=sum(1 for member in members if not member.accepting_requests),
    )
