"""Digest e-mails, sent now (``POST /v1/digests``)."""

from __future__ import annotations

from pydantic import Field

from models.common import Input, Output
from models.members import DigestFrequency, Frequency


class DigestRun(Input):
    frequency: Frequency = Field(
        default=DigestFrequency.weekly,
        description="Whose digests: the members with this setting (daily or weekly)",
    )


class DigestsSent(Output):
    members: int = Field(description="How many members were sent their digest now")
