"""Changing a member's e-mail address, the address sign-in links go to.

A member's own change waits for a link sent to the new address (``CONFIRM_WITHIN``), and the
old address is told at once: a typo does not lock the member out, and whoever changes it
cannot take the account over. The coordinator's change applies at once, and both addresses
are told. Either way the member's sign-in links end (they went to the old address).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import UUID

from models.members import Member
from service.db import Connection
from service.errors import Conflict
from service.identity import repository as identity_repository
from service.identity.tokens import hash_secret
from service.members import repository
from service.notifications import messages, outbox
from service.notifications.mailing import Mailing

CONFIRM_WITHIN = timedelta(hours=48)


def confirm_path(secret: str) -> str:
    return f"/profil/email/bestaetigen/{secret}"


async def _tell(
    conn: Connection, member_id: UUID, address: str, message: messages.Message, kind: str
) -> None:
    await outbox.enqueue(conn, member_id=member_id, recipient=address, message=message, kind=kind)


async def request(conn: Connection, mailing: Mailing, member: Member, new_email: str) -> datetime:
    """The member asks for ``new_email``: a link to confirm it goes there, a note to the old
    address; until when the link confirms."""
    secret = secrets.token_urlsafe(32)
    expires_at = await repository.request_email_change(
        conn,
        UUID(member.id),
        new_email=new_email,
        secret_hash=hash_secret(secret),
        valid_for=CONFIRM_WITHIN,
    )
    await _tell(
        conn,
        UUID(member.id),
        new_email,
        messages.email_confirm(
            name=member.name,
            new_email=new_email,
            link=mailing.link(confirm_path(secret)),
            valid_until=expires_at,
        ),
        messages.EMAIL_CONFIRM,
    )
    if member.email:
        await _tell(
            conn,
            UUID(member.id),
            member.email,
            messages.email_change_requested(name=member.name, new_email=new_email),
            messages.EMAIL_CHANGED,
        )
    return expires_at


async def changed(
    conn: Connection,
    mailing: Mailing | None,
    member: Member,
    new_email: str,
    *,
    by_coordinator: bool,
) -> None:
    """The address is the new one now: the links to the old one end, both addresses are told."""
    member_id = UUID(member.id)
    await identity_repository.end_links(conn, member_id)
    await repository.drop_email_change(conn, member_id)
    if mailing is None or not member.email:
        return
    message = messages.email_changed(
        name=member.name,
        old_email=member.email,
        new_email=new_email,
        by_coordinator=by_coordinator,
    )
    for address in (member.email, new_email):
        await _tell(conn, member_id, address, message, messages.EMAIL_CHANGED)


async def confirmable(conn: Connection, secret: str) -> bool:
    return (
        len(secret) <= 100
        and await repository.email_change_of(conn, hash_secret(secret)) is not None
    )


async def confirm(conn: Connection, mailing: Mailing | None, secret: str) -> UUID | None:
    """Apply the change the link confirms; the member's id, or None when the link confirms
    nothing (any more). 409 when the address has become another member's meanwhile."""
    if len(secret) > 100:
        return None
    pending = await repository.email_change_of(conn, hash_secret(secret))
    if pending is None:
        return None
    member_id, new_email = pending
    member = await repository.get_member(conn, member_id, for_update=True)
    if member is None:
        return None
    if await repository.email_taken(conn, new_email, except_member=member_id):
        raise Conflict(f"A member with the e-mail address {new_email} exists already.")
    await repository.update_member(conn, member_id, repository.MemberChanges(email=new_email))
    await changed(conn, mailing, member, new_email, by_coordinator=False)
    return member_id
