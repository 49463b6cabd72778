"""Question and suggestion schemas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from models.common import (
    MAX_LONG_TEXT,
    MAX_QUESTION_TAGS,
    MAX_SHORT_TEXT,
    NO_NUL,
    Input,
    Integer,
    Output,
    ShortText,
    Tag,
    visible,
)
from models.members import Municipality, _unique
from models.outcomes import Outcome, Related
from models.requests import Party

QuestionBody = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_LONG_TEXT, pattern=NO_NUL
    ),
    AfterValidator(visible),
]
DEFAULT_LIMIT = 5
MAX_LIMIT = 50


class QuestionCreate(Input):
    title: ShortText
    body: QuestionBody
    tags: Annotated[list[Tag], Field(max_length=MAX_QUESTION_TAGS), AfterValidator(_unique)] = (
        Field(default_factory=list)
    )
    limit: Integer = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    open: bool = Field(
        default=False,
        description=(
            "Also show the question, with your name and municipality, to every colleague from "
            "another municipality whose expertise fits it; they can offer help"
        ),
    )


class QuestionUpdate(Input):
    open: bool = Field(description="Open the question to the colleagues who fit it, or close it")


class QuestionDraft(Input):
    """A question as far as it was written when its author's session ended: within the
    question's own limits, but perhaps not finished (an empty title or body)."""

    title: Annotated[str, StringConstraints(max_length=MAX_SHORT_TEXT, pattern=NO_NUL)] = ""
    body: Annotated[str, StringConstraints(max_length=MAX_LONG_TEXT, pattern=NO_NUL)] = ""
    tags: Annotated[
        list[Annotated[str, StringConstraints(max_length=60, pattern=NO_NUL)]],
        Field(max_length=MAX_QUESTION_TAGS),
    ] = Field(default_factory=list)


class Fit(StrEnum):
    """How well a suggested colleague fits a question (service/matching/fit.py)."""

    strong = "strong"
    partial = "partial"
    weak = "weak"


class SuggestedMember(Output):
    id: str
    name: str
    municipality: Municipality
    role: str
    tags: list[str]


class ScoreComponents(Output):
    """The component scores behind a suggestion's ranking (docs/matching.md)."""

    dense: float = Field(0.0, description="Cosine of the question with the best passages")
    lexical: float = Field(0.0, description="Character n-gram TF-IDF similarity")
    tags: float = Field(0.0, description="Share of the question's tags the colleague has")
    tags_in_text: float = Field(0.0, description="Share of their tags named in the question")
    relevance: float = Field(0.0, description="The components combined, in [0, 1]")
    load: float = Field(0.0, description="Open requests as a share of their capacity")
    feedback_prior: float = Field(0.0, description="From helpful consultations, in [0, 1]")
    fits_partly: float | None = Field(
        None, description="Estimated probability that their experience fits at least partly"
    )
    fits_clearly: float | None = Field(
        None, description="Estimated probability that their experience is clearly helpful"
    )


class Reasons(Output):
    """Why a colleague is suggested, in terms a person can check."""

    matched_tags: list[str] = Field(
        description="The colleague's tags that the question names, or that stand in its text"
    )
    passage: str | None = Field(
        description=(
            "The sentence of their expertise that matches best, with the sentence before it "
            "when it leans on that one (a pronoun, 'dabei', 'dort')"
        )
    )
    same_state: bool = Field(False, description="In the asker's Bundesland")
    similar_size: bool = Field(False, description="A municipality of similar size")
    context: list[str] = Field(default_factory=list, description="Which context counted")
    near_duplicate: bool = Field(
        False, description="Moved down: their profile nearly repeats one shown above"
    )
    components: ScoreComponents = Field(default_factory=ScoreComponents)
    consulted_on: list[str] = Field(
        default_factory=list,
        description="Titles of questions the colleague advised on, whose shared outcomes name "
        "them and count in this suggestion",
    )


class Suggestion(Output):
    member: SuggestedMember
    score: float = Field(ge=0.0, le=1.0)
    fit: Fit | None = Field(
        description=(
            "How well the colleague fits the question (docs/matching.md, 'Gaps'): strong, "
            "partial or weak; null only for suggestions stored before fits were estimated"
        )
    )
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
    open: bool = Field(
        default=False, description="Shown to every colleague who fits it (they may offer help)"
    )
    gap: bool | None = Field(
        description=(
            "Whether nobody in the network covers the question well when it was asked (every "
            "colleague a weak fit; the same decision as the insights' gaps); null only for "
            "questions asked before it was made"
        )
    )
    suggestions: list[Suggestion]
    related: list[Related] = Field(
        default_factory=list,
        description="Up to 3 shared outcomes of earlier consultations relevant to the question "
        "(docs/matching.md, 'What the network worked out')",
    )
    outcome: Outcome | None = Field(
        default=None, description="What came out of the consultation, once recorded"
    )


# Open questions are shown for this long after they were opened.
OPEN_FOR_DAYS = 30


class OpenQuestion(Output):
    id: str
    title: str
    body: str
    tags: list[str]
    created_at: datetime
    asker: Party


class OpenQuestionMatch(Output):
    question: OpenQuestion
    score: float = Field(description="How well your experience fits it, 0-1")
    reasons: Reasons = Field(
        description="Why it fits you: the same kinds of reasons as a suggestion"
    )


class OpenQuestionList(Output):
    questions: list[OpenQuestionMatch]
