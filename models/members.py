"""Member schemas: Member, MemberCreate, MemberUpdate and their parts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from models import states
from models.common import (
    MAX_LANGUAGES,
    MAX_LONG_TEXT,
    MAX_SHORT_TEXT,
    MAX_TAGS,
    NO_NUL,
    Input,
    Language,
    Output,
    ShortText,
    Tag,
    integer_only,
    visible,
)

Expertise = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_LONG_TEXT, pattern=NO_NUL
    ),
    AfterValidator(visible),
]
Role = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_SHORT_TEXT, pattern=NO_NUL)
]
# How many open requests (pending invitations, accepted consultations without feedback) a
# member takes at most, unless they say otherwise: the database's default too.
DEFAULT_MAX_OPEN_REQUESTS = 3
MaxOpenRequests = Annotated[int, Field(strict=False, ge=0, le=100), BeforeValidator(integer_only)]
State = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=NO_NUL),
    AfterValidator(states.state),
]
MunicipalityKind = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=NO_NUL),
    AfterValidator(visible),
]


def _unique(values: list[str]) -> list[str]:
    """Drop repeated entries (case-insensitively), keeping the first spelling."""
    seen: set[str] = set()
    unique: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


TagList = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique)]
LanguageList = Annotated[list[Language], Field(max_length=MAX_LANGUAGES), AfterValidator(_unique)]


class MunicipalityIn(Input):
    name: ShortText
    state: State = Field(
        description=(
            "The German Land, Austrian Bundesland or Swiss canton, written out; the usual "
            "abbreviations (RLP, NRW, DE-BY) are mapped, anything else is refused"
        )
    )
    kind: MunicipalityKind | None = Field(
        default=None, description="Großstadt, Mittelstadt, Kleinstadt, Gemeinde or Landkreis"
    )


class Municipality(Output):
    id: str
    name: str
    state: str
    kind: str | None


def _null_allowed(schema: dict[str, Any]) -> None:
    """The schema of a new member: the optional fields may be sent as null, meaning absent."""
    for name, field in schema.get("properties", {}).items():
        if name in MemberCreate.OPTIONAL:
            field["anyOf"] = [
                {key: value for key, value in field.items() if key not in _ANNOTATIONS},
                {"type": "null"},
            ]
            for key in [key for key in field if key not in _ANNOTATIONS and key != "anyOf"]:
                del field[key]


# Schema keys that describe a property rather than constrain its value.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples"})


class DigestFrequency(StrEnum):
    """How often a member gets the digest e-mail (open questions that fit them, invitations
    and offers waiting): Monday 7:00, every day at 7:00 (German time), or never."""

    daily = "daily"
    weekly = "weekly"
    never = "never"


# A frequency as JSON gives it: its value (strict input would take only the enum itself).
Frequency = Annotated[DigestFrequency, Field(strict=False)]


class MemberCreate(Input):
    """A new member. The optional fields may be left out or sent as null: both mean the
    default (clients that serialize every field send null for what they do not know)."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset(
        {"role", "tags", "languages", "accepting_requests", "max_open_requests", "digest"}
    )
    model_config = ConfigDict(json_schema_extra=_null_allowed)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: value
                for key, value in data.items()
                if not (value is None and key in cls.OPTIONAL)
            }
        return data

    name: ShortText
    email: EmailStr = Field(max_length=254)
    municipality: MunicipalityIn
    role: Role = ""
    expertise: Expertise
    tags: TagList = Field(default_factory=list)
    languages: LanguageList = Field(default_factory=lambda: ["de"])
    accepting_requests: bool = True
    max_open_requests: MaxOpenRequests = DEFAULT_MAX_OPEN_REQUESTS
    digest: Frequency = DigestFrequency.weekly


def _without_null(schema: dict[str, Any]) -> None:
    """The schema of a partial update: a field may be left out, but not sent as null (the
    fields are optional in Python only so that a field left out can be told apart)."""
    for field in schema.get("properties", {}).values():
        options = [option for option in field.get("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            del field["anyOf"]
            field.update(options[0])
        elif options:
            field["anyOf"] = options
        field.pop("default", None)


class MemberUpdate(Input):
    """Partial update: only the fields sent change. ``municipality``: coordinator only."""

    model_config = ConfigDict(json_schema_extra=_without_null)

    name: ShortText | None = None
    email: EmailStr | None = Field(default=None, max_length=254)
    municipality: MunicipalityIn | None = None
    role: Role | None = None
    expertise: Expertise | None = None
    tags: TagList | None = None
    languages: LanguageList | None = None
    accepting_requests: bool | None = None
    max_open_requests: MaxOpenRequests | None = None
    digest: Frequency | None = None

    @field_validator(
        "name",
        "email",
        "role",
        "expertise",
        "accepting_requests",
        "max_open_requests",
        "digest",
        "municipality",
        "tags",
        "languages",
        mode="before",
    )
    @classmethod
    def _no_null(cls, value: object) -> object:
        # Sending null would erase a required field; leave a field out to keep it.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class TagsReplace(Input):
    tags: TagList


class Member(Output):
    id: str
    name: str
    email: str | None = Field(
        default=None, description="Only shown to the member and the coordinator"
    )
    municipality: Municipality
    role: str
    expertise: str
    tags: list[str]
    languages: list[str]
    accepting_requests: bool
    max_open_requests: int
    digest: DigestFrequency = Field(
        default=DigestFrequency.weekly, description="How often the digest e-mail comes"
    )
    created_at: datetime
    updated_at: datetime
    welcomed_at: datetime | None = Field(
        default=None,
        description="When the last welcome e-mail went out (to the member and the coordinator)",
    )
    signed_in_at: datetime | None = Field(
        default=None,
        description="The last sign-in to the web interface (to the member and the coordinator)",
    )
    email_pending: str | None = Field(
        default=None,
        description=(
            "A new address the member gave, waiting for the link sent to it (to the member "
            "and the coordinator); until then `email` holds"
        ),
    )


class MemberCreated(Member):
    token: str = Field(description="The member's access token; shown only this once")


class MemberToken(Output):
    id: str
    token: str


class TagCount(Output):
    tag: str
    count: int
