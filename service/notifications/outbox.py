"""All SQL about the e-mail outbox.

A notification is written with :func:`enqueue` in the same transaction as the state change it
reports, so it exists exactly when the change was committed. The sender claims due rows one at a
time with ``FOR UPDATE SKIP LOCKED`` (:func:`claim_due`) and holds the row lock while it talks to
the SMTP server, so several workers or processes never send one message twice; a worker that
dies mid-send releases its lock and the row is picked up again (at-least-once delivery).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from service.db import Connection
from service.notifications.messages import Message, one_line

_FORBIDDEN_IN_ADDRESS = ("\r", "\n", "\x00")
# A message is tried this many times (with exponential backoff) before it is given up.
MAX_ATTEMPTS = 12


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A claimed, unsent row of the outbox."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


def check_recipient(recipient: str) -> str:
    """The address, stripped; ValueError (without the address) if it cannot be one."""
    address = recipient.strip()
    if not address or "@" not in address or any(c in address for c in _FORBIDDEN_IN_ADDRESS):
        raise ValueError("recipient is not a usable e-mail address")
    return address


async def enqueue(
    conn: Connection,
    *,
    recipient: str,
    message: Message,
    kind: str,
    member_id: UUID | None = None,
    request_id: UUID | None = None,
    application_id: UUID | None = None,
) -> None:
    """Queue ``message`` for ``recipient`` in the caller's transaction: to a member, or to an
    applicant who is not one yet (``application_id``); erasing either erases their mail.

    Callers skip members without an e-mail address (imported members may have none).
    """
    if not kind.strip():
        raise ValueError("kind must not be empty")
    if member_id is None and application_id is None:
        raise ValueError("a message goes to a member or to an applicant")
    await conn.execute(
        """
        INSERT INTO outbox (member_id, request_id, application_id, kind, recipient, subject,
                            body, headers)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
        """,
        member_id,
        request_id,
        application_id,
        kind,
        check_recipient(recipient),
        one_line(message.subject),
        message.body,
        _headers(message),
    )


@dataclass(frozen=True, slots=True)
class ToMember:
    """A message for a member, queued with others (``enqueue_many``)."""

    member_id: UUID
    recipient: str
    message: Message


async def enqueue_many(conn: Connection, queued: Sequence[ToMember], *, kind: str) -> None:
    """Queue a message for each member in the caller's transaction, in one statement (as
    ``enqueue`` does one)."""
    if not kind.strip():
        raise ValueError("kind must not be empty")
    await conn.execute(
        """
        INSERT INTO outbox (member_id, kind, recipient, subject, body, headers)
        SELECT m.member_id, $1, m.recipient, m.subject, m.body, m.headers::jsonb
        FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
             AS m(member_id, recipient, subject, body, headers)
        """,
        kind,
        [item.member_id for item in queued],
        [check_recipient(item.recipient) for item in queued],
        [one_line(item.message.subject) for item in queued],
        [item.message.body for item in queued],
        [_headers(item.message) for item in queued],
    )


def _headers(message: Message) -> str:
    return json.dumps({name: one_line(value) for name, value in message.headers.items()})


async def claim_due(conn: Connection, *, max_attempts: int) -> OutboxMessage | None:
    """Lock and return the oldest due, unsent row that has attempts left, or None.

    Must run inside a transaction; the lock lasts until it ends. Rows locked by other
    transactions are skipped, not waited for.
    """
    row = await conn.fetchrow(
        """
        SELECT id, kind, recipient, subject, body, attempts, created_at, headers
        FROM outbox
        WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < $1
        ORDER BY next_attempt_at, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
        """,
        max_attempts,
    )
    if row is None:
        return None
    return OutboxMessage(
        id=row["id"],
        kind=row["kind"],
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        headers=json.loads(row["headers"]),
    )


async def mark_sent(conn: Connection, message_id: int) -> None:
    """The message reached the SMTP server."""
    await conn.execute(
        """
        UPDATE outbox
        SET sent_at = now(), attempts = attempts + 1, last_error = NULL
        WHERE id = $1
        """,
        message_id,
    )


async def mark_failed(
    conn: Connection, message_id: int, *, attempts: int, error: str, retry_in: timedelta
) -> None:
    """Record a failed attempt: the new attempt count, a short error free of personal data,
    and when to try again (irrelevant once ``attempts`` reached the sender's maximum)."""
    await conn.execute(
        """
        UPDATE outbox
        SET attempts = $2, last_error = $3, next_attempt_at = now() + $4::interval
        WHERE id = $1
        """,
        message_id,
        attempts,
        error[:200],
        retry_in,
    )


async def waiting_and_failing(conn: Connection, *, max_attempts: int) -> tuple[int, int]:
    """Messages waiting to be sent, and of them those that failed at least once (given-up
    ones count as failing)."""
    record = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE attempts < $1) AS waiting,
               count(*) FILTER (WHERE attempts > 0) AS failing
        FROM outbox WHERE sent_at IS NULL
        """,
        max_attempts,
    )
    assert record is not None  # an aggregate always yields a row
    return record["waiting"], record["failing"]


async def purge_delivered(conn: Connection, *, older_than: timedelta) -> int:
    """Delete messages that were sent, or given up on, longer ago than ``older_than``: they
    hold names and addresses, and nobody reads them after delivery. Returns how many."""
    result = await conn.execute(
        """
        DELETE FROM outbox
        WHERE coalesce(sent_at, CASE WHEN attempts >= $2 THEN next_attempt_at END)
              < now() - $1::interval
        """,
        older_than,
        MAX_ATTEMPTS,
    )
    return int(result.split()[-1])
