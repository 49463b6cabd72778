"""Failed-authentication throttling, kept in PostgreSQL so every worker sees the same counts.

Clients are stored as a hash of their address (the address itself is not kept). The check
reads on the request's own connection; a failure is recorded after the failing request's
transaction has rolled back and its connection is back in the pool (so no request ever holds two
connections, which under load would exhaust the pool), and commits at once.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

import asyncpg

from service.db import Connection
from service.errors import TooManyRequests


def client_key(address: str) -> str:
    return hashlib.sha256(f"peerconsult-client:{address}".encode()).hexdigest()


async def blocked_until(conn: Connection, client: str) -> datetime | None:
    """When the client may try again, if it is blocked now."""
    until: datetime | None = await conn.fetchval(
        "SELECT blocked_until FROM auth_failure WHERE client = $1 AND blocked_until > now()",
        client,
    )
    return until


async def record_failure(
    db: Connection | asyncpg.Pool, client: str, *, limit: int, window_seconds: int
) -> datetime | None:
    """Count a failed attempt in the client's current window; returns the end of the block if
    this attempt reached the limit. ``db``: the pool (committed at once), or a connection whose
    transaction commits (a sign-in form that answers with a page rather than an error)."""
    # One statement, so concurrent failures from one client count exactly. A window older than
    # ``window_seconds`` starts afresh.
    until: datetime | None = await db.fetchval(
        """
        INSERT INTO auth_failure AS a (client, failures, window_start, blocked_until)
        VALUES ($1, 1, now(), CASE WHEN $3 <= 1 THEN now() + make_interval(secs => $2) END)
        ON CONFLICT (client) DO UPDATE SET
            failures = CASE WHEN a.window_start < now() - make_interval(secs => $2)
                            THEN 1 ELSE a.failures + 1 END,
            window_start = CASE WHEN a.window_start < now() - make_interval(secs => $2)
                                THEN now() ELSE a.window_start END,
            blocked_until = CASE
                WHEN (CASE WHEN a.window_start < now() - make_interval(secs => $2)
                           THEN 1 ELSE a.failures + 1 END) >= $3
                THEN now() + make_interval(secs => $2)
                ELSE a.blocked_until END
        RETURNING CASE WHEN a.blocked_until > now() THEN a.blocked_until END
        """,
        client,
        float(window_seconds),
        limit,
    )
    return until


def too_many_attempts(until: datetime, *, what: str = "failed sign-in attempts") -> TooManyRequests:
    seconds = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
    return TooManyRequests(
        f"Too many {what} from this client; please wait and try again.", retry_after=seconds
    )


async def purge_stale(conn: Connection, *, window_seconds: int) -> int:
    """Delete the counts of clients whose window and block have both passed (they count
    afresh on their next failure anyway); returns how many."""
    result = await conn.execute(
        """
        DELETE FROM auth_failure
        WHERE window_start < now() - make_interval(secs => $1)
          AND (blocked_until IS NULL OR blocked_until < now())
        """,
        float(window_seconds),
    )
    return int(result.split()[-1])


async def count_attempt(conn: Connection, client: str, *, limit: int, window_seconds: int) -> None:
    """Count a request that anyone may make but nobody should make often (asking for a
    sign-in link, applying) against the client, as a failed sign-in counts; 429 while the
    client is blocked. The count commits with the caller's transaction."""
    until = await blocked_until(conn, client)
    if until is not None:
        raise too_many_attempts(until, what="requests")
    await record_failure(conn, client, limit=limit, window_seconds=window_seconds)
