"""Signing in by a link e-mailed to the member, and the welcome e-mail that carries the first.

A link is a random secret, stored only as its hash, bound to one member, good once and for a
short time (15 minutes; a welcome's 7 days). A newer link, a new token and the member's erasure
end it. Opening it shows a page with one button, and only pressing that signs in, so that mail
scanners which fetch every link do not use it up.

Whether an address belongs to a member is never told, not even by the time the answer takes:
asking for a link only queues the address (``request_link``, the same single insert for every
address), and the e-mail sender looks it up behind the outbox (``send_requested_links``),
sending nothing to an address that is no member's, nor more than ``LINKS_PER_HOUR`` to one
that is. The queued address is deleted as soon as it has been looked up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID

import asyncpg

from service.db import Connection
from service.errors import NotFound, Unprocessable
from service.identity import repository
from service.identity.principals import MemberPrincipal
from service.identity.tokens import hash_secret
from service.notifications import messages, outbox
from service.notifications.mailing import Mailing

log = logging.getLogger(__name__)

SIGN_IN = "sign-in"
WELCOME = "welcome"
SIGN_IN_VALIDITY = timedelta(minutes=15)
WELCOME_VALIDITY = timedelta(days=7)
LINKS_PER_HOUR = 5
# Links are kept a day after they were made (for the hourly count), then deleted.
KEPT_FOR = timedelta(days=1)
# A secret longer than this is no link's (the link's own are 43 characters).
MAX_SECRET_LENGTH = 100


def link_path(secret: str, next_page: str | None = None) -> str:
    """The page a link opens, and where it leads after signing in."""
    query = f"?{urlencode({'weiter': next_page})}" if next_page else ""
    return f"/anmelden/link/{secret}{query}"


async def _new_link(
    conn: Connection, member_id: UUID, *, purpose: str, valid_for: timedelta
) -> tuple[str, datetime]:
    secret = secrets.token_urlsafe(32)
    expires_at = await repository.insert_link(
        conn,
        member_id=member_id,
        secret_hash=hash_secret(secret),
        purpose=purpose,
        valid_for=valid_for,
    )
    return secret, expires_at


async def request_link(conn: Connection, email: str, *, next_page: str | None = None) -> None:
    """Someone asks for a sign-in link for ``email``: queued, whoever's address it is."""
    await repository.queue_link_request(conn, email, next_page)


async def _send_link(conn: Connection, mailing: Mailing, email: str, next_page: str | None) -> bool:
    found = await repository.member_by_email(conn, email)
    if found is None or found.email is None:
        return False
    member_id, name, address = found.id, found.name, found.email
    sent = await repository.links_sent_since(
        conn, member_id, purpose=SIGN_IN, within=timedelta(hours=1)
    )
    if sent >= LINKS_PER_HOUR:
        return False
    secret, expires_at = await _new_link(
        conn, member_id, purpose=SIGN_IN, valid_for=SIGN_IN_VALIDITY
    )
    message = messages.sign_in_link(
        name=name,
        link=mailing.link(link_path(secret, next_page)),
        valid_minutes=int(SIGN_IN_VALIDITY.total_seconds() // 60),
        valid_until=expires_at,
    )
    await outbox.enqueue(
        conn, member_id=member_id, recipient=address, message=message, kind=messages.SIGN_IN
    )
    return True


async def send_requested_links(pool: asyncpg.Pool, mailing: Mailing, *, batch: int = 50) -> int:
    """Look up up to ``batch`` queued requests, each in a transaction of its own, and put a
    link for each member's address in the outbox; returns how many requests were taken."""
    taken = 0
    async with pool.acquire() as conn:
        for _ in range(batch):
            async with conn.transaction():
                request = await repository.take_link_request(conn)
                if request is None:
                    break
                await _send_link(conn, mailing, request.email, request.next_page)
            taken += 1
    return taken


async def send_welcome(conn: Connection, mailing: Mailing, member_id: UUID) -> datetime:
    """E-mail the member a welcome with a sign-in link good for ``WELCOME_VALIDITY``; when
    it was sent."""
    member = await repository.addressee(conn, member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    if not member.email:
        raise Unprocessable(f"{member.name} has no e-mail address to send a welcome to.")
    secret, expires_at = await _new_link(
        conn, member_id, purpose=WELCOME, valid_for=WELCOME_VALIDITY
    )
    message = messages.welcome(
        name=member.name,
        link=mailing.link(link_path(secret, "/profil")),
        valid_until=expires_at,
    )
    await outbox.enqueue(
        conn, member_id=member_id, recipient=member.email, message=message, kind=messages.WELCOME
    )
    return await repository.record_welcome(conn, member_id)


async def send_welcomes(
    pool: asyncpg.Pool, mailing: Mailing, member_ids: Sequence[UUID]
) -> tuple[int, int]:
    """Welcome each of these members, each in a transaction of its own (so a failure half-way
    leaves the welcomes before it sent); (welcomed, without an e-mail address)."""
    welcomed = without_email = 0
    for member_id in member_ids:
        async with pool.acquire() as conn, conn.transaction():
            try:
                await send_welcome(conn, mailing, member_id)
            except Unprocessable:
                without_email += 1
            else:
                welcomed += 1
    return welcomed, without_email


def _may_be_secret(secret: str) -> bool:
    return 0 < len(secret) <= MAX_SECRET_LENGTH


async def usable(conn: Connection, secret: str) -> bool:
    return _may_be_secret(secret) and await repository.link_usable(conn, hash_secret(secret))


async def redeem(conn: Connection, secret: str) -> MemberPrincipal | None:
    """The member a link signs in, ending the link; None when it does not (any more)."""
    if not _may_be_secret(secret):
        return None
    member_id = await repository.redeem_link(conn, hash_secret(secret))
    return None if member_id is None else MemberPrincipal(member_id=member_id)


async def links_of(conn: Connection, member_id: UUID) -> list[dict[str, str | None]]:
    """The member's sign-in links, as their export shows them."""
    return await repository.links_of(conn, member_id)
