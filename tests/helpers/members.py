"""Members made through the service, for tests of the services themselves (no HTTP)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from uuid import UUID

from models.members import MemberCreate
from service import identity
from service.db import Connection
from service.embedding import Embedder
from service.members import service as members_service

_numbers = itertools.count(1)


async def new_member(
    conn: Connection,
    embedder: Embedder,
    *,
    municipality: str,
    expertise: str = "Ich habe Leitlinien für Bürgerbeteiligung mit dem Stadtrat erarbeitet.",
    tags: Sequence[str] = (),
    state: str = "Hessen",
    accepting_requests: bool = True,
) -> identity.MemberPrincipal:
    """A member of a municipality of their own (unless another shares its name)."""
    number = next(_numbers)
    member, _ = await members_service.create_member(
        conn,
        embedder,
        MemberCreate.model_validate(
            {
                "name": f"Mitglied {number}",
                "email": f"service-{number}@example.org",
                "municipality": {"name": municipality, "state": state},
                "expertise": expertise,
                "tags": list(tags),
                "accepting_requests": accepting_requests,
            }
        ),
    )
    return identity.MemberPrincipal(member_id=UUID(member.id))
