"""Applications for membership: anyone may apply; the applicant confirms their address by a
link (double opt-in); the coordinator sees confirmed applications only, and approves (the
applicant becomes a member and gets a welcome with a sign-in link) or declines (the applicant
is told, with the reason if one is given).

Unconfirmed applications are deleted after ``CONFIRM_WITHIN``, decided ones after
``KEPT_AFTER_DECISION`` (the housekeeping round; ``/mitglied-werden`` says so).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import UUID

from models.applications import Application, ApplicationCreate, ApplicationStatus
from models.members import Member, MemberCreate, MunicipalityIn
from service import identity
from service.applications import repository
from service.db import Connection
from service.embedding import Embedder
from service.errors import Conflict, NotFound
from service.identity import links
from service.identity.tokens import hash_secret
from service.members import service as members_service
from service.notifications import messages, outbox
from service.notifications.mailing import Mailing

CONFIRM_WITHIN = timedelta(hours=48)
KEPT_AFTER_DECISION = timedelta(days=30)
# Applications one address may have waiting for confirmation.
UNCONFIRMED_PER_ADDRESS = 3


def confirm_path(secret: str) -> str:
    return f"/mitglied-werden/bestaetigen/{secret}"


async def apply(conn: Connection, mailing: Mailing, data: ApplicationCreate) -> datetime | None:
    """Keep the application and e-mail the applicant a link to confirm their address; until
    when the link confirms. An address with ``UNCONFIRMED_PER_ADDRESS`` applications waiting
    for confirmation gets no more (so the form cannot flood anyone's mailbox): None."""
    waiting = await repository.unconfirmed_for(conn, data.email, within=CONFIRM_WITHIN)
    if waiting >= UNCONFIRMED_PER_ADDRESS:
        return None
    secret = secrets.token_urlsafe(32)
    application_id, created_at = await repository.insert(
        conn, data, confirm_hash=hash_secret(secret)
    )
    valid_until = created_at + CONFIRM_WITHIN
    message = messages.application_confirm(
        name=data.name, link=mailing.link(confirm_path(secret)), valid_until=valid_until
    )
    await outbox.enqueue(
        conn,
        application_id=application_id,
        recipient=data.email,
        message=message,
        kind=messages.APPLICATION_CONFIRM,
    )
    return valid_until


async def confirmable(conn: Connection, secret: str) -> bool:
    return await repository.confirmable(conn, hash_secret(secret), within=CONFIRM_WITHIN)


async def confirm(conn: Connection, secret: str) -> bool:
    """Confirm the applicant's address; False when the link confirms nothing (any more)."""
    found = await repository.confirm(conn, hash_secret(secret), within=CONFIRM_WITHIN)
    return found is not None


async def list_applications(
    conn: Connection, coordinator: identity.CoordinatorPrincipal, status: ApplicationStatus | None
) -> list[Application]:
    """The confirmed applications, of one status or all, oldest first."""
    return await repository.confirmed(conn, status)


async def _pending(conn: Connection, application_id: UUID) -> Application:
    application = await repository.get(conn, application_id, for_update=True)
    if application is None:
        raise NotFound(f"No application with id {application_id}.")
    if application.status != ApplicationStatus.pending:
        raise Conflict(f"The application is {application.status}; it was decided already.")
    return application


async def approve(
    conn: Connection,
    embedder: Embedder,
    mailing: Mailing,
    coordinator: identity.CoordinatorPrincipal,
    application_id: UUID,
) -> Member:
    """The applicant becomes a member with the profile they gave, and gets a welcome with a
    sign-in link."""
    application = await _pending(conn, application_id)
    member, _token = await members_service.create_member(
        conn,
        embedder,
        MemberCreate.model_validate(
            {
                "name": application.name,
                "email": application.email,
                "municipality": MunicipalityIn(
                    name=application.municipality.name,
                    state=application.municipality.state,
                    kind=application.municipality.kind,
                ),
                "role": application.role,
                "expertise": application.expertise,
                "tags": application.tags,
                "languages": application.languages,
            },
            strict=False,
        ),
    )
    await links.send_welcome(conn, mailing, UUID(member.id))
    await repository.decide(
        conn, application_id, ApplicationStatus.approved, member_id=UUID(member.id)
    )
    return await members_service.get_member(conn, coordinator, UUID(member.id))


async def decline(
    conn: Connection, mailing: Mailing, application_id: UUID, reason: str | None
) -> Application:
    """The applicant is told, politely, with the reason if one is given."""
    application = await _pending(conn, application_id)
    decided = await repository.decide(
        conn, application_id, ApplicationStatus.declined, reason=reason
    )
    await outbox.enqueue(
        conn,
        application_id=application_id,
        recipient=application.email,
        message=messages.application_declined(name=application.name, reason=reason),
        kind=messages.APPLICATION_DECLINED,
    )
    return decided
