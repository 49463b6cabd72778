"""Failed-authentication throttling, kept in PostgreSQL so every worker sees the same counts.

Clients are stored as a hash of their address (the address itself is not kept). Writes use
their own connection and commit at once: the failing request's transaction rolls back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import asyncpg


def client_key(address: str) -> str:
    return hashlib.sha256(f"peerconsult-client:{address}".encode()).hexdigest()


async def blocked_until(pool: asyncpg.Pool, client: str) -> datetime | None:
    """When the client may try again, if it is blocked now."""
    until: datetime | None = await pool.fetchval(
        "SELECT blocked_until FROM auth_failure WHERE client = $1 AND blocked_until > now()",
        client,
    )
    return until


async def record_failure(
    pool: asyncpg.Pool, client: str, *, limit: int, window_seconds: int
) -> datetime | None:
    """Count a failed attempt in the client's current window; returns the end of the block if
    this attempt reached the limit."""
    # One statement, so concurrent failures from one client count exactly. A window older than
    # ``window_seconds`` starts afresh.
    until: datetime | None = await pool.fetchval(
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
