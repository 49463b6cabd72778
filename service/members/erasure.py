"""Erasing a member, and what the network keeps afterwards without the person.

Erasure deletes the member and everything derived from them (passages, tags, questions,
suggestions, requests, sign-in links, sessions, drafts, applications made with their address).
Two things outlive them, neither of which names anyone:

* a keyed hash of their e-mail address and of the id an import gave them (HMAC-SHA256 under a
  random key of this installation, ``server_key``), kept ``REMEMBERED_FOR``, so that importing
  the coordinator's old spreadsheet never brings them back. The hash tells only whether a
  given address was erased, not whose it was;
* their consultation requests as anonymous rows (status and times; the colleague as a random
  key where it was the erased member), so that the insights' request flow and rates do not
  change when someone leaves.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from service.db import Connection
from service.members import repository

REMEMBERED_FOR = timedelta(days=730)


async def _key(conn: Connection) -> bytes:
    key: bytes = await conn.fetchval("SELECT key FROM server_key WHERE name = 'erasure'")
    return bytes(key)


def _identity_hash(key: bytes, kind: str, value: str) -> bytes:
    normalized = value.strip().casefold() if kind == "email" else value.strip()
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).digest()


async def erase(conn: Connection, member_id: UUID) -> bool:
    """Erase the member; False when there is none."""
    found = await conn.fetchrow(
        "SELECT email, external_id FROM member WHERE id = $1 FOR UPDATE", member_id
    )
    if found is None:
        return False
    key = await _key(conn)
    hashes = [
        _identity_hash(key, kind, value)
        for kind, value in (("email", found["email"]), ("import-id", found["external_id"]))
        if value
    ]
    await conn.execute(
        """
        INSERT INTO erased_identity (key_hash) SELECT unnest($1::bytea[])
        ON CONFLICT (key_hash) DO UPDATE SET erased_at = now()
        """,
        hashes,
    )
    await _keep_requests_anonymously(conn, member_id)
    return await repository.delete_member(conn, member_id)


async def _keep_requests_anonymously(conn: Connection, member_id: UUID) -> None:
    """The member's requests, both ways, as anonymous rows; a pending one ended with the
    erasure, as a withdrawal does. Rows that named the member as the colleague are keyed anew
    by one random key."""
    await conn.execute(
        """
        WITH anonymous AS (SELECT gen_random_uuid() AS key)
        INSERT INTO erased_request (status, peer_key, created_at, expires_at, responded_at,
                                    kind)
        SELECT CASE WHEN r.status = 'pending' THEN 'withdrawn' ELSE r.status END,
               CASE WHEN r.peer_id = $1 THEN anonymous.key ELSE r.peer_id END,
               r.created_at, r.expires_at,
               CASE WHEN r.status = 'pending' THEN now() ELSE r.responded_at END, r.kind
        FROM consultation_request r, anonymous
        WHERE r.asker_id = $1 OR r.peer_id = $1
        """,
        member_id,
    )
    await conn.execute(
        "UPDATE erased_request SET peer_key = gen_random_uuid() WHERE peer_key = $1", member_id
    )


async def erased_among(
    conn: Connection, *, emails: Iterable[str], import_ids: Iterable[str]
) -> tuple[set[str], set[str]]:
    """Which of these e-mail addresses and import ids belonged to an erased member."""
    key = await _key(conn)
    by_hash: dict[bytes, tuple[str, str]] = {}
    for kind, values in (("email", emails), ("import-id", import_ids)):
        for value in values:
            by_hash[_identity_hash(key, kind, value)] = (kind, value)
    if not by_hash:
        return set(), set()
    records = await conn.fetch(
        "SELECT key_hash FROM erased_identity WHERE key_hash = ANY($1::bytea[])", list(by_hash)
    )
    found = [by_hash[bytes(record["key_hash"])] for record in records]
    return (
        {value for kind, value in found if kind == "email"},
        {value for kind, value in found if kind == "import-id"},
    )


async def forget(conn: Connection, *, email: str) -> None:
    """A person who was erased is a member again on purpose (the coordinator created them,
    or approved their application): imports may match them again."""
    await conn.execute(
        "DELETE FROM erased_identity WHERE key_hash = $1",
        _identity_hash(await _key(conn), "email", email),
    )


async def purge(conn: Connection, *, older_than: timedelta = REMEMBERED_FOR) -> int:
    """Forget erasures longer ago than ``older_than``; how many."""
    result = await conn.execute(
        "DELETE FROM erased_identity WHERE erased_at < now() - $1::interval", older_than
    )
    return int(result.split()[-1])
