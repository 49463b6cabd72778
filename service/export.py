"""Everything held about one member, as one JSON document (GDPR Art. 15 and 20)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from service import identity
from service.applications import repository as applications_repository
from service.db import Connection
from service.errors import Forbidden
from service.identity import links, sessions
from service.insights import repository as insights_repository
from service.members import expertise_repository, import_repository
from service.members import service as members_service
from service.outcomes import repository as outcomes_repository
from service.questions import audience as audience_repository
from service.questions import repository as questions_repository
from service.requests import repository as requests_repository
from service.requests import service as requests_service


async def export_member(
    conn: Connection, principal: identity.Principal, member_id: UUID
) -> dict[str, Any]:
    """The member's profile, tags, stored passages and search terms, questions with their
    suggestions, where they were suggested to others, their consultation requests with the
    feedback given and received, what the last import wrote, their sign-in links and live
    browser sessions, when the coordinator wrote to them about gaps, and the application they
    came in by."""
    if not principal.may_act_for(member_id):
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
        "passages": await expertise_repository.passages_of(conn, member_id),
        # The expertise's words as candidates are searched by (stemmed, without stop words).
        "search_terms": await expertise_repository.terms_of(conn, member_id),
        "questions": questions,
        "suggested_to_others": await questions_repository.appearances_of(conn, member_id),
        # What came out of consultations: the outcomes they wrote, and those they are named on.
        "outcomes": await outcomes_repository.of_member(conn, member_id),
        # Open questions of others the member was shown, because their expertise fits them.
        "open_questions_shown": await audience_repository.audience_of(conn, member_id),
        # Requests both ways, as the member sees them (contact only on accepted ones); the
        # feedback the member gave is on their outgoing requests.
        "requests": [
            requests_service.request_schema(
                record, identity.MemberPrincipal(member_id=member_id)
            ).model_dump(mode="json")
            for record in await requests_repository.requests_of(conn, member_id)
        ],
        # What those who consulted the member said about it (the ratings and comments of
        # their invitations to the member that were accepted).
        "feedback_received": [
            {
                "request_id": str(record.id),
                "question_title": record.question_title,
                "helpful": record.feedback.helpful,
                "comment": record.feedback.comment,
                "created_at": record.feedback.created_at.isoformat(),
            }
            for record in await requests_repository.requests_of(conn, member_id)
            if record.peer.id == member_id and record.feedback is not None
        ],
        # What the last import of the coordinator's file wrote for the member, so that the
        # next one changes only what the file changed.
        "import": await import_repository.import_record(conn, member_id),
        # Links e-mailed to sign in (their secrets are stored only as hashes, and not here).
        "sign_in_links": await links.links_of(conn, member_id),
        # Browser sessions signed in now (their secrets are stored only as hashes).
        "sessions": await sessions.live_sessions_of(conn, member_id),
        # When the coordinator wrote to the member about questions nobody covered (the
        # questions' titles were in the e-mail; who asked them is not the member's data).
        "gap_contacts": [
            {"question_title": contact.question_title, "contacted_at": contact.contacted_at}
            for contact in await insights_repository.contacts_of(conn, member_id)
        ],
        # The application the member came in by (kept 30 days after the decision).
        "applications": [
            application.model_dump(mode="json")
            for application in await applications_repository.of_member(conn, member_id)
        ],
        "note": (
            "Zugangsschlüssel und die Geheimnisse von Anmeldelinks und Sitzungen speichert "
            "peerconsult nur als Prüfsumme; sie sind nicht Teil dieser Datei."
        ),
    }
