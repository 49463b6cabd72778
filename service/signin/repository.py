"""All SQL about sign-in links. A link is stored only as the hash of its secret."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from service.db import Connection


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


async def redeem(conn: Connection, secret_hash: bytes) -> UUID | None:
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


async def usable(conn: Connection, secret_hash: bytes) -> bool:
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


async def purge_old(conn: Connection, *, older_than: timedelta) -> int:
    """Delete links created longer ago than ``older_than`` (they are long over); how many."""
    result = await conn.execute(
        "DELETE FROM sign_in_link WHERE created_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])
