"""All SQL about who someone is: members' tokens, browser sessions, sign-in links and the
requests for them, and the counts that limit how often an action may be tried.

Secrets (tokens, session and link secrets) are stored only as hashes; clients and e-mail
addresses in the counts only as keyed hashes (``service.identity.throttle``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import asyncpg

from service.db import Connection

# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


async def member_with_token(conn: Connection, token_hash: bytes) -> tuple[UUID, bytes] | None:
    """The member whose token has this hash, with the stored hash (compared again in constant
    time by the caller)."""
    record = await conn.fetchrow(
        "SELECT id, token_hash FROM member WHERE token_hash = $1", token_hash
    )
    return None if record is None else (record["id"], bytes(record["token_hash"]))


async def set_token_hash(conn: Connection, member_id: UUID, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE member SET token_hash = $2, updated_at = now() WHERE id = $1",
        member_id,
        token_hash,
    )


async def lock_member(conn: Connection, member_id: UUID) -> bool:
    """Lock the member's row for a change of their credentials; False for no such member."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM member WHERE id = $1 FOR NO KEY UPDATE)", member_id
    )
    return found


async def record_sign_in(conn: Connection, member_id: UUID) -> None:
    await conn.execute("UPDATE member SET signed_in_at = now() WHERE id = $1", member_id)


class Addressee(NamedTuple):
    """Whom a sign-in link goes to: the member, their name and address (which may be none)."""

    id: UUID
    name: str
    email: str | None


async def member_by_email(conn: Connection, email: str) -> Addressee | None:
    """The member with this e-mail address (as the unique index compares it), with the
    address as they gave it."""
    record = await conn.fetchrow(
        "SELECT id, name, email FROM member WHERE lower(email) = lower($1)", email
    )
    return None if record is None else Addressee(record["id"], record["name"], record["email"])


async def addressee(conn: Connection, member_id: UUID) -> Addressee | None:
    record = await conn.fetchrow("SELECT id, name, email FROM member WHERE id = $1", member_id)
    return None if record is None else Addressee(record["id"], record["name"], record["email"])


async def record_welcome(conn: Connection, member_id: UUID) -> datetime:
    welcomed_at: datetime = await conn.fetchval(
        "UPDATE member SET welcomed_at = now() WHERE id = $1 RETURNING welcomed_at", member_id
    )
    return welcomed_at


# ---------------------------------------------------------------------------------------------
# Browser sessions
# ---------------------------------------------------------------------------------------------


class StoredSession(NamedTuple):
    """A session row: whose it is, and whether it still holds."""

    member_id: UUID | None
    coordinator_binding: bytes | None
    live: bool


async def insert_session(
    conn: Connection,
    *,
    secret_hash: bytes,
    member_id: UUID | None,
    coordinator_binding: bytes | None,
    valid_for: timedelta,
) -> None:
    await conn.execute(
        """
        INSERT INTO web_session (secret_hash, member_id, coordinator_binding, expires_at)
        VALUES ($1, $2, $3, now() + $4::interval)
        """,
        secret_hash,
        member_id,
        coordinator_binding,
        valid_for,
    )


async def find_session(conn: Connection, secret_hash: bytes) -> StoredSession | None:
    """The session with this secret, live or ended (a row is kept a while after it ended)."""
    record = await conn.fetchrow(
        """
        SELECT member_id, coordinator_binding,
               ended_at IS NULL AND expires_at > now() AS live
        FROM web_session WHERE secret_hash = $1
        """,
        secret_hash,
    )
    if record is None:
        return None
    binding = record["coordinator_binding"]
    return StoredSession(
        record["member_id"], None if binding is None else bytes(binding), record["live"]
    )


async def end_session(conn: Connection, secret_hash: bytes) -> None:
    await conn.execute(
        "UPDATE web_session SET ended_at = now() WHERE secret_hash = $1 AND ended_at IS NULL",
        secret_hash,
    )


async def end_member_sessions(conn: Connection, member_id: UUID) -> int:
    """End every session of the member; how many were live."""
    result = await conn.execute(
        """
        UPDATE web_session SET ended_at = now()
        WHERE member_id = $1 AND ended_at IS NULL AND expires_at > now()
        """,
        member_id,
    )
    return int(result.split()[-1])


async def end_coordinator_sessions(conn: Connection) -> int:
    """End every session of the coordinator; how many were live."""
    result = await conn.execute(
        """
        UPDATE web_session SET ended_at = now()
        WHERE member_id IS NULL AND ended_at IS NULL AND expires_at > now()
        """
    )
    return int(result.split()[-1])


async def live_sessions(conn: Connection, member_id: UUID) -> list[dict[str, str]]:
    """The member's live sessions as their export shows them (never the secret's hash)."""
    records = await conn.fetch(
        """
        SELECT created_at, expires_at FROM web_session
        WHERE member_id = $1 AND ended_at IS NULL AND expires_at > now()
        ORDER BY created_at
        """,
        member_id,
    )
    return [
        {
            "created_at": record["created_at"].isoformat(),
            "expires_at": record["expires_at"].isoformat(),
        }
        for record in records
    ]


async def purge_sessions(conn: Connection, *, ended_before: timedelta) -> int:
    """Delete sessions that ended (or expired) longer ago than ``ended_before``; how many."""
    result = await conn.execute(
        """
        DELETE FROM web_session
        WHERE least(coalesce(ended_at, expires_at), expires_at) < now() - $1::interval
        """,
        ended_before,
    )
    return int(result.split()[-1])


# ---------------------------------------------------------------------------------------------
# Sign-in links and the requests for them
# ---------------------------------------------------------------------------------------------


async def insert_link(
    conn: Connection, *, member_id: UUID, secret_hash: bytes, purpose: str, valid_for: timedelta
) -> datetime:
    """A new link for the member, ending every older one of theirs; when it expires."""
    await end_links(conn, member_id)
    expires_at: datetime = await conn.fetchval(
        """
        INSERT INTO sign_in_link (member_id, secret_hash, purpose, expires_at)
        VALUES ($1, $2, $3, now() + $4::interval)
        RETURNING expires_at
        """,
        member_id,
        secret_hash,
        purpose,
        valid_for,
    )
    return expires_at


async def end_links(conn: Connection, member_id: UUID) -> None:
    """The member's links stop working (a newer link, a new token)."""
    await conn.execute(
        "UPDATE sign_in_link SET ended_at = now() WHERE member_id = $1 AND ended_at IS NULL",
        member_id,
    )


async def links_sent_since(
    conn: Connection, member_id: UUID, *, purpose: str, within: timedelta
) -> int:
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM sign_in_link
        WHERE member_id = $1 AND purpose = $2 AND created_at > now() - $3::interval
        """,
        member_id,
        purpose,
        within,
    )
    return count


async def redeem_link(conn: Connection, secret_hash: bytes) -> UUID | None:
    """End a link that still works and return its member; None for any other."""
    member_id: UUID | None = await conn.fetchval(
        """
        UPDATE sign_in_link SET ended_at = now()
        WHERE secret_hash = $1 AND ended_at IS NULL AND expires_at > now()
        RETURNING member_id
        """,
        secret_hash,
    )
    return member_id


async def link_usable(conn: Connection, secret_hash: bytes) -> bool:
    """Whether the link would still sign someone in (without using it)."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM sign_in_link
                       WHERE secret_hash = $1 AND ended_at IS NULL AND expires_at > now())
        """,
        secret_hash,
    )
    return found


async def links_of(conn: Connection, member_id: UUID) -> list[dict[str, str | None]]:
    """The member's sign-in links as their export shows them (never the secret's hash)."""
    records = await conn.fetch(
        """
        SELECT purpose, created_at, expires_at, ended_at FROM sign_in_link
        WHERE member_id = $1 ORDER BY created_at
        """,
        member_id,
    )
    return [
        {
            "purpose": record["purpose"],
            "created_at": record["created_at"].isoformat(),
            "expires_at": record["expires_at"].isoformat(),
            "ended_at": record["ended_at"].isoformat() if record["ended_at"] else None,
        }
        for record in records
    ]


async def purge_links(conn: Connection, *, older_than: timedelta) -> int:
    """Delete links created longer ago than ``older_than`` (they are long over); how many."""
    result = await conn.execute(
        "DELETE FROM sign_in_link WHERE created_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])


async def queue_link_request(conn: Connection, email: str, next_page: str | None) -> None:
    await conn.execute(
        "INSERT INTO sign_in_request (email, next_page) VALUES ($1, $2)", email, next_page
    )


class LinkRequest(NamedTuple):
    email: str
    next_page: str | None


async def take_link_request(conn: Connection) -> LinkRequest | None:
    """Delete and return the oldest request no other transaction is taking (the row stays
    locked until the caller's transaction ends, and comes back if it rolls back)."""
    record = await conn.fetchrow(
        """
        DELETE FROM sign_in_request
        WHERE id = (SELECT id FROM sign_in_request ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING email, next_page
        """
    )
    return None if record is None else LinkRequest(record["email"], record["next_page"])


async def waiting_link_requests(conn: Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM sign_in_request")
    return count


# ---------------------------------------------------------------------------------------------
# Counts of attempts (rate limits)
# ---------------------------------------------------------------------------------------------


async def blocked_until(conn: Connection, action: str, key: str) -> datetime | None:
    until: datetime | None = await conn.fetchval(
        """
        SELECT blocked_until FROM rate_limit
        WHERE action = $1 AND key = $2 AND blocked_until > now()
        """,
        action,
        key,
    )
    return until


async def count_attempt(
    db: Connection | asyncpg.Pool, action: str, key: str, *, limit: int, window_seconds: int
) -> tuple[int, datetime | None]:
    """Count one attempt in the key's current window: the count and, when the key is
    blocked now (this attempt reached the limit, or an earlier one did), until when. One
    statement, so concurrent attempts count exactly; a window older than ``window_seconds``
    starts afresh, and every attempt at or over the limit blocks for a window from then."""
    record = await db.fetchrow(
        """
        INSERT INTO rate_limit AS r (action, key, count, window_start, blocked_until)
        VALUES ($1, $2, 1, now(), CASE WHEN $4 <= 1 THEN now() + make_interval(secs => $3) END)
        ON CONFLICT (action, key) DO UPDATE SET
            count = CASE WHEN r.window_start < now() - make_interval(secs => $3)
                         THEN 1 ELSE r.count + 1 END,
            window_start = CASE WHEN r.window_start < now() - make_interval(secs => $3)
                                THEN now() ELSE r.window_start END,
            blocked_until = CASE
                WHEN (CASE WHEN r.window_start < now() - make_interval(secs => $3)
                           THEN 1 ELSE r.count + 1 END) >= $4
                THEN now() + make_interval(secs => $3)
                ELSE r.blocked_until END
        RETURNING count, CASE WHEN r.blocked_until > now() THEN r.blocked_until END AS until
        """,
        action,
        key,
        float(window_seconds),
        limit,
    )
    assert record is not None  # an upsert returns its row
    return record["count"], record["until"]


async def purge_counts(conn: Connection, *, older_than_seconds: int) -> int:
    """Delete counts whose window and block have both passed (they start afresh anyway)."""
    result = await conn.execute(
        """
        DELETE FROM rate_limit
        WHERE window_start < now() - make_interval(secs => $1)
          AND (blocked_until IS NULL OR blocked_until < now())
        """,
        float(older_than_seconds),
    )
    return int(result.split()[-1])
