"""What came out of a consultation (``PUT /v1/questions/{id}/outcome``), and the shared
outcomes found for a question (``related``, ``GET /v1/outcomes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from models.common import MAX_LONG_TEXT, NO_NUL, Input, Output, visible
from models.members import Municipality

OutcomeText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_LONG_TEXT, pattern=NO_NUL
    ),
    AfterValidator(visible),
]


class OutcomeWrite(Input):
    text: OutcomeText = Field(description="What came out of the consultation: a few sentences")
    shared: bool = Field(
        default=False,
        description="Visible to every member (otherwise only to the asker, the colleagues of "
        "its accepted requests and the coordinator)",
    )


class Helper(Output):
    """A colleague of an accepted request who chose to be named on the shared outcome."""

    id: str
    name: str
    municipality: Municipality


class Outcome(Output):
    question_id: str
    text: str
    shared: bool
    updated_at: datetime
    helpers: list[Helper] = Field(
        default_factory=list, description="The colleagues who chose to be named"
    )


class RelatedQuestion(Output):
    id: str
    title: str
    body: str
    created_at: datetime
    municipality: Municipality = Field(description="Where the question was asked")


class Related(Output):
    question: RelatedQuestion
    outcome: Outcome
    score: float = Field(description="How relevant the outcome is to the question, 0-1")


class RelatedList(Output):
    outcomes: list[Related]


class NamedUpdate(Input):
    named: bool = Field(description="Appear by name on the question's shared outcome")
