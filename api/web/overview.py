"""The network at a glance, for the coordinator's page.

Read-only counts that no service offers yet. The two queries below belong in a repository
module of the service layer (see the report of issue 5); until then they live here, next to
their only caller, and read nothing personal.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.members import Member, TagCount
from service.db import Connection

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
    conn: Connection, members: list[Member], vocabulary: list[TagCount]
) -> NetworkOverview:
    open_requests: int = await conn.fetchval(
        "SELECT count(*) FROM consultation_request WHERE status = 'pending' AND expires_at > now()"
    )
    recent_questions: int = await conn.fetchval(
        "SELECT count(*) FROM question WHERE created_at > now() - make_interval(days => $1)",
        RECENT_DAYS,
    )
    return NetworkOverview(
        members=len(members),
        municipalities=len({member.municipality.id for member in members}),
        states=len({member.municipality.state.casefold() for member in members}),
        open_requests=open_requests,
        recent_questions=recent_questions,
        top_tags=vocabulary[:TOP_TAGS],
        paused=sum(1 for member in members if not member.accepting_requests),
    )
