"""Question and suggestion schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from models.common import MAX_QUESTION_TAGS, Input, Output, ShortText, Tag
from models.members import Municipality, _unique

QuestionBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
]
DEFAULT_LIMIT = 5
MAX_LIMIT = 50


class QuestionCreate(Input):
    title: ShortText
    body: QuestionBody
    tags: Annotated[list[Tag], Field(max_length=MAX_QUESTION_TAGS), AfterValidator(_unique)] = (
        Field(default_factory=list)
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class SuggestedMember(Output):
    id: str
    name: str
    municipality: Municipality
    role: str
    tags: list[str]


class Reasons(Output):
    matched_tags: list[str] = Field(description="The colleague's tags that match the question")
    passage: str | None = Field(description="The sentence of their expertise that matches best")
    same_state: bool = False
    similar_size: bool = False
    context: list[str] = Field(default_factory=list, description="Which context counted")
    components: dict[str, float] = Field(
        default_factory=dict, description="Component scores behind the ranking"
    )

    model_config = ConfigDict(from_attributes=True, extra="allow")


class Suggestion(Output):
    member: SuggestedMember
    score: float = Field(ge=0.0, le=1.0)
    reasons: Reasons


class SuggestionList(Output):
    suggestions: list[Suggestion]


class Question(Output):
    id: str
    asker_id: str
    title: str
    body: str
    tags: list[str]
    created_at: datetime
    suggestions: list[Suggestion]


def reasons_from_json(raw: dict[str, Any]) -> Reasons:
    return Reasons.model_validate(raw)
