"""Consultation request schemas: from an invitation to a conversation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from models.common import MAX_MESSAGE, NO_NUL, Id, Input, Integer, Output
from models.members import Municipality, _unique

MAX_INVITES = 10

Message = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_MESSAGE, pattern=NO_NUL)
]


class RequestStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"
    expired = "expired"


class RequestKind(StrEnum):
    """An invitation (the asker asks a colleague; the colleague answers) or an offer (a
    colleague offers help on an open question; the asker answers)."""

    invitation = "invitation"
    offer = "offer"


class Direction(StrEnum):
    incoming = "incoming"
    outgoing = "outgoing"


class RequestCreate(Input):
    member_ids: Annotated[
        list[Id],
        Field(min_length=1, max_length=MAX_INVITES),
        AfterValidator(_unique),
    ] = Field(description="Members to invite; each must be one who may be suggested to you")
    message: Message | None = Field(default=None, description="A note to the invited colleagues")


class OfferCreate(Input):
    message: Message | None = Field(default=None, description="A note to the asker")


class FeedbackCreate(Input):
    helpful: Integer = Field(ge=1, le=5, description="How helpful the consultation was, 1-5")
    comment: Message | None = None


class Party(Output):
    id: str
    name: str
    municipality: Municipality


class ContactPerson(Output):
    name: str
    email: str | None


class Contact(Output):
    """Both parties' e-mail addresses, shown only on an accepted request, only to its parties."""

    asker: ContactPerson
    peer: ContactPerson


class QuestionSummary(Output):
    id: str
    title: str
    body: str


class Feedback(Output):
    helpful: int
    comment: str | None
    created_at: datetime


class ConsultationRequest(Output):
    id: str
    question_id: str
    question: QuestionSummary
    asker: Party
    peer: Party = Field(description="The colleague: invited, or offering help")
    kind: RequestKind = RequestKind.invitation
    status: RequestStatus
    message: str | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    contact: Contact | None = None
    feedback: Feedback | None = Field(default=None, description="Shown to the asker")
    named: bool = Field(
        default=False,
        description="The colleague appears by name on the question's shared outcome",
    )
