"""Applications for membership: Application, ApplicationCreate, ApplicationDecline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field

from models.common import Input, Output, ShortText
from models.members import Expertise, LanguageList, MunicipalityIn, Role, TagList
from models.requests import Message


class ApplicationStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


class ApplicationCreate(Input):
    name: ShortText
    email: EmailStr = Field(max_length=254)
    municipality: MunicipalityIn
    role: Role = ""
    expertise: Expertise = Field(description="What the applicant has done and knows")
    tags: TagList = Field(default_factory=list)
    languages: LanguageList = Field(default_factory=lambda: ["de"])
    message: Message | None = Field(default=None, description="A note to the coordinator")
    consent: Literal[True] = Field(
        description="Consent to the processing described on /mitglied-werden; required"
    )


class ApplicantMunicipality(Output):
    name: str
    state: str
    kind: str | None


class Application(Output):
    id: str
    name: str
    email: str
    municipality: ApplicantMunicipality
    role: str
    expertise: str
    tags: list[str]
    languages: list[str]
    message: str | None
    status: ApplicationStatus
    created_at: datetime
    confirmed_at: datetime | None
    decided_at: datetime | None


class ApplicationList(Output):
    applications: list[Application]


class ApplicationDecline(Input):
    reason: Message | None = Field(default=None, description="Told to the applicant")
