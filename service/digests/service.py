"""Digest e-mails: the open questions that fit a member and are new since their last digest,
their invitations waiting for an answer, and offers waiting for them as askers. Nothing new, no
e-mail.

A member's digest of a period is claimed (``digest_run``) in the transaction that queues it, so
it goes out once per member and period however many workers, machines or "jetzt senden" clicks
there are. The housekeeping round sends each period's digests once the period began (daily 7:00,
weekly Monday 7:00, German time; ``periods``), and marks the period done.

Every digest carries a one-click unsubscribe link (RFC 8058): signed for its member with a key of
the installation, it sets their digest to never and is good for nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from models.members import DigestFrequency
from models.questions import OPEN_FOR_DAYS, OpenQuestionMatch
from models.requests import RequestKind
from service import metrics
from service.db import Connection
from service.digests import periods, repository
from service.errors import Unprocessable
from service.notifications import messages, outbox, reach
from service.notifications.mailing import Mailing
from service.questions import audience as audience_repository

log = logging.getLogger(__name__)

# At most this many open questions in one digest, the best fitting first.
QUESTIONS_PER_DIGEST = 10
# Members composed, claimed and queued together.
BATCH = 500
UNSUBSCRIBE_PATH = "/zusammenfassung/abbestellen/"


def unsubscribe_token(key: bytes, member_id: UUID) -> str:
    """The member's id and a keyed signature of it, URL-safe: it unsubscribes this member from
    digests and does nothing else."""
    mac = hmac.new(key, f"digest-unsubscribe:{member_id}".encode(), hashlib.sha256).digest()
    return member_id.hex + base64.urlsafe_b64encode(mac[:18]).decode()


def member_of(key: bytes, token: str) -> UUID | None:
    """Whose unsubscribe token this is; None for anything not signed with ``key``."""
    try:
        member_id = UUID(hex=token[:32])
        given = base64.urlsafe_b64decode(token[32:].encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    expected = base64.urlsafe_b64decode(unsubscribe_token(key, member_id)[32:])
    return member_id if hmac.compare_digest(given, expected) else None


def compose(
    mailing: Mailing,
    key: bytes,
    *,
    member_id: UUID,
    name: str,
    since: datetime,
    frequency: DigestFrequency,
    questions: Sequence[OpenQuestionMatch],
    waiting: Sequence[repository.Waiting],
) -> messages.Message | None:
    """The member's digest of ``questions`` (opened to them since ``since``) and the requests
    ``waiting`` for their answer; None when nothing in it is new."""
    if not questions and not any(item.created_at > since for item in waiting):
        return None
    return reach.digest(
        name=name,
        weekly=frequency is DigestFrequency.weekly,
        questions=[
            reach.DigestItem(
                title=match.question.title,
                who=f"{match.question.asker.name}, {match.question.asker.municipality.name}",
                link=mailing.link(f"/offene-fragen/{match.question.id}"),
            )
            for match in questions
        ],
        invitations=[
            reach.DigestItem(
                title=item.question_title,
                who=f"{item.other_name}, {item.other_municipality}",
                link=mailing.link(f"/anfragen/{item.id}"),
            )
            for item in waiting
            if item.kind is RequestKind.invitation
        ],
        offers=[
            reach.DigestItem(
                title=item.question_title,
                who=f"{item.other_name}, {item.other_municipality}",
                link=mailing.link(f"/anfragen/{item.id}"),
            )
            for item in waiting
            if item.kind is RequestKind.offer
        ],
        settings_link=mailing.link("/profil"),
        unsubscribe_link=mailing.link(UNSUBSCRIBE_PATH + unsubscribe_token(key, member_id)),
    )


async def send_due(
    conn: Connection,
    mailing: Mailing,
    frequency: DigestFrequency,
    *,
    now: datetime | None = None,
) -> int:
    """Queue the digest of the period ``now`` falls in for every member with ``frequency`` who
    has something new and has not had it yet; returns how many were queued. The members are
    read, composed, claimed and queued in batches of ``BATCH``: a few statements per batch, not
    per member."""
    if frequency is DigestFrequency.never:
        raise Unprocessable("'never' is no frequency to send digests at.")
    now = now or datetime.now(UTC)
    began = periods.start(frequency, now)
    period = periods.key(frequency, began)
    key = await repository.unsubscribe_key(conn)
    due = await repository.due(conn, frequency, period, after=began - periods.length(frequency))
    sent = 0
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        since = {member_id: moment for member_id, _, _, moment in batch}
        questions = await audience_repository.open_for_members(
            conn, since, limit=QUESTIONS_PER_DIGEST, days=OPEN_FOR_DAYS
        )
        waiting = await repository.waiting(conn, list(since))
        composed = {
            member_id: (email, message)
            for member_id, name, email, moment in batch
            if (
                message := compose(
                    mailing,
                    key,
                    member_id=member_id,
                    name=name,
                    since=moment,
                    frequency=frequency,
                    questions=questions.get(member_id, []),
                    waiting=waiting.get(member_id, []),
                )
            )
            is not None
        }
        claimed = await repository.claim(conn, list(composed), period)
        await outbox.enqueue_many(
            conn,
            [
                outbox.ToMember(member_id, email, message)
                for member_id, (email, message) in composed.items()
                if member_id in claimed
            ],
            kind=messages.DIGEST,
        )
        sent += len(claimed)
    metrics.DIGESTS.labels(frequency.value).inc(sent)
    return sent


async def send_scheduled(conn: Connection, mailing: Mailing, *, now: datetime | None = None) -> int:
    """The scheduled digests: each frequency's period once it began (within
    ``periods.SCHEDULED_WITHIN``), once; returns how many were queued."""
    now = now or datetime.now(UTC)
    sent = 0
    for frequency in (DigestFrequency.daily, DigestFrequency.weekly):
        began = periods.start(frequency, now)
        period = periods.key(frequency, began)
        if now - began > periods.SCHEDULED_WITHIN or await repository.period_done(conn, period):
            continue
        queued = await send_due(conn, mailing, frequency, now=now)
        await repository.mark_period_done(conn, period)
        log.info("digests: %d queued for %s", queued, period)
        sent += queued
    return sent


async def unsubscribe(conn: Connection, token: str) -> bool:
    """Set the digest of the token's member to never; False for a token that is not one (or
    whose member is gone)."""
    member_id = member_of(await repository.unsubscribe_key(conn), token)
    return member_id is not None and await repository.unsubscribe(conn, member_id)
