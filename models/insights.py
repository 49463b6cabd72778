"""The coordinator's view of the network (``GET /v1/insights``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from models.common import Output
from models.members import Municipality


class GapMember(Output):
    id: str
    name: str
    municipality: Municipality


class Gap(Output):
    """Questions on one topic that the network could not answer well."""

    label: str = Field(description="The words that characterise the topic")
    question_ids: list[str]
    questions: int
    best_score: float | None = Field(
        description="How well the best available colleague matched (relevance 0-1); "
        "null when nobody could be suggested"
    )
    closest: list[GapMember] = Field(
        description="Who comes closest: whom to ask to extend their profile on it"
    )


class Topic(Output):
    topic: str
    questions: int = Field(description="Questions of the period on it")
    members: int = Field(description="Members who cover it")
    accepting: int = Field(description="Of them, how many take requests now")


class RequestFlow(Output):
    pending: int
    accepted: int
    declined: int
    withdrawn: int
    expired: int
    acceptance_rate: float | None = Field(
        description="Accepted of those answered or expired; null before any"
    )
    median_hours_to_answer: float | None
    open_over_3_days: int
    open_over_7_days: int
    top5_share: float | None = Field(
        description="Share of invitations that went to the five most-invited members"
    )


class StateCount(Output):
    state: str
    members: int


class KindCount(Output):
    kind: str = Field(description="Municipality kind; empty when not given")
    members: int


class Reach(Output):
    total: int
    accepting: int
    paused: int
    at_capacity: int
    never_signed_in: int
    stale: int = Field(description="Profiles unchanged for 12 months")
    by_state: list[StateCount]
    by_kind: list[KindCount]
    single_member_municipalities: list[Municipality]


class Insights(Output):
    generated_at: datetime
    since: datetime | None
    until: datetime | None
    gaps: list[Gap]
    topics: list[Topic]
    requests: RequestFlow
    members: Reach
