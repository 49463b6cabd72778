"""Signing in by e-mail, and welcomes."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from models.common import Input, Output


class EmailLinkRequest(Input):
    email: EmailStr = Field(max_length=254, description="The member's e-mail address")


class Accepted(Output):
    """A request taken on; what follows happens by e-mail."""

    detail: str


class Welcome(Output):
    id: str
    welcomed_at: datetime = Field(description="When the welcome e-mail was queued")
