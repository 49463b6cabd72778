"""The coordinator's view of the network (``GET /v1/insights``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from models.common import Id, Input, Output
from models.members import Municipality
from models.requests import Message

MAX_CONTACTED_QUESTIONS = 50
MAX_CONTACTED_MEMBERS = 10


class GapMember(Output):
    id: str
    name: str
    municipality: Municipality


class GapContact(Output):
    member: GapMember
    contacted_at: datetime


class Gap(Output):
    """Questions on one topic that nobody in the network covers well, as the network is now
    (docs/matching.md, "Gaps")."""

    label: str = Field(description="The topic, in one to three terms")
    question_ids: list[str]
    questions: int
    best_score: float | None = Field(
        description="How well the best available colleague matches now (relevance 0-1); "
        "null when nobody could be suggested"
    )
    closest: list[GapMember] = Field(
        description="Who comes closest now: whom to ask to help or extend their profile on it"
    )
    contacted: list[GapContact] = Field(
        default_factory=list, description="Whom the coordinator wrote to about it, latest first"
    )
    shared_outcomes: int = Field(
        default=0,
        description="Of its questions, those that got a shared outcome since: the network "
        "worked something out on it",
    )


class ClosedGap(Output):
    """Questions on one topic that were gaps when they were asked and are covered now: someone
    joined or extended their profile since."""

    label: str
    question_ids: list[str]
    questions: int
    covered_by: list[GapMember] = Field(description="Who fits them now, best first")
    contacted: list[GapContact] = Field(default_factory=list)
    shared_outcomes: int = Field(
        default=0, description="Of its questions, those that got a shared outcome"
    )


class GapContactRequest(Input):
    """Write to colleagues about gap questions: whether they can help, or extend their profile."""

    question_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_CONTACTED_QUESTIONS)]
    member_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_CONTACTED_MEMBERS)]
    message: Message | None = Field(None, description="A note from the coordinator")


class GapContactResult(Output):
    contacted: list[GapMember] = Field(description="Who was written to")
    without_email: list[GapMember] = Field(description="Who has no e-mail address to write to")


class Topic(Output):
    topic: str
    questions: int = Field(description="Questions of the period on it")
    members: int = Field(description="Members who cover it")
    accepting: int = Field(description="Of them, how many take requests now")
    outcomes: int = Field(default=0, description="Of the questions, those whose outcome was shared")


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
    offers: int = Field(default=0, description="Of the requests, offers of help on open questions")
    offers_accepted: int = Field(default=0, description="Of the offers, those accepted")


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
    closed_gaps: list[ClosedGap] = Field(
        default_factory=list, description="Gaps of the period that the network covers by now"
    )
    topics: list[Topic]
    requests: RequestFlow
    members: Reach
