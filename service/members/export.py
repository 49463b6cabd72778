"""Everything held about one member, as one JSON document (GDPR Art. 15 and 20)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from service import auth
from service.db import Connection
from service.errors import Forbidden
from service.members import repository as members_repository
from service.members import service as members_service
from service.questions import repository as questions_repository


async def export_member(
    conn: Connection, principal: auth.Principal, member_id: UUID
) -> dict[str, Any]:
    """The member's profile, tags, stored passages, questions with their suggestions, and where
    they were suggested to others."""
    if not principal.may_change(member_id):
        raise Forbidden("Only the member and the coordinator may export this.")
    member = await members_service.get_member(conn, principal, member_id)
    questions = []
    for stored in await questions_repository.questions_of(conn, member_id):
        suggestions = await questions_repository.stored_suggestions(conn, stored.id)
        questions.append(
            questions_repository.question_schema(stored, suggestions).model_dump(mode="json")
        )
    return {
        "member": member.model_dump(mode="json"),
        "passages": await members_repository.passages_of(conn, member_id),
        "questions": questions,
        "suggested_to_others": await questions_repository.appearances_of(conn, member_id),
        "note": "Access tokens are stored only as hashes and are not part of this export.",
    }
