"""Browser sessions, kept on the server: a row per session, found by the hash of a random
secret that the browser's cookie carries (the cookie holds no token). Signing out ends the
row, so a cookie copied before is worth nothing afterwards; "everywhere" ends every row of the
member, or of the coordinator. A member's sessions end with a new token and with the member;
the coordinator's are bound to the admin token (an HMAC of it under the server's secret), so a
new admin token ends them.

A session lasts a working day (``LIFETIME``). An ended row is kept a day (``KEPT_AFTER_END``),
so that a question typed while the session ran out can be kept for the member it was theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from service.db import Connection
from service.errors import NotFound
from service.identity import repository
from service.identity.principals import COORDINATOR, MemberPrincipal, Principal
from service.identity.tokens import hash_secret

LIFETIME = timedelta(hours=12)
KEPT_AFTER_END = timedelta(days=1)


def _coordinator_binding(server_secret: bytes, admin_token: str) -> bytes:
    return hmac.new(server_secret, hash_secret(admin_token), hashlib.sha256).digest()


async def start_for_member(conn: Connection, member_id: UUID) -> str:
    """A new session for a member who has just shown who they are (token or link), and the
    sign-in recorded; the secret for the cookie."""
    if not await repository.lock_member(conn, member_id):
        raise NotFound(f"No member with id {member_id}.")
    secret = secrets.token_urlsafe(32)
    await repository.insert_session(
        conn,
        secret_hash=hash_secret(secret),
        member_id=member_id,
        coordinator_binding=None,
        valid_for=LIFETIME,
    )
    await repository.record_sign_in(conn, member_id)
    return secret


async def start_for_coordinator(conn: Connection, *, server_secret: bytes, admin_token: str) -> str:
    """A new session for the coordinator, who has just shown the admin token; its secret."""
    secret = secrets.token_urlsafe(32)
    await repository.insert_session(
        conn,
        secret_hash=hash_secret(secret),
        member_id=None,
        coordinator_binding=_coordinator_binding(server_secret, admin_token),
        valid_for=LIFETIME,
    )
    return secret


@dataclass(frozen=True, slots=True)
class Found:
    """What a session's secret names: who it was for, and whether it still holds."""

    principal: Principal
    live: bool


async def find(
    conn: Connection, secret: str, *, server_secret: bytes, admin_token: str | None
) -> Found | None:
    """The session of this secret, live or ended; None for no session (or a coordinator's
    whose admin token has changed since)."""
    if not secret or len(secret) > 100:
        return None
    stored = await repository.find_session(conn, hash_secret(secret))
    if stored is None:
        return None
    if stored.member_id is not None:
        return Found(MemberPrincipal(member_id=stored.member_id), stored.live)
    if admin_token is None or stored.coordinator_binding is None:
        return None
    expected = _coordinator_binding(server_secret, admin_token)
    if not hmac.compare_digest(expected, stored.coordinator_binding):
        return None
    return Found(COORDINATOR, stored.live)


async def end(conn: Connection, secret: str) -> None:
    """Sign out: this session ends."""
    await repository.end_session(conn, hash_secret(secret))


async def end_all(conn: Connection, principal: Principal) -> int:
    """Every session of the member, or of the coordinator, ends; how many were live."""
    if isinstance(principal, MemberPrincipal):
        count = await repository.end_member_sessions(conn, principal.member_id)
        # Links not used yet would start new sessions: they end too.
        await repository.end_links(conn, principal.member_id)
        return count
    return await repository.end_coordinator_sessions(conn)


async def live_sessions_of(conn: Connection, member_id: UUID) -> list[dict[str, str]]:
    """The member's live sessions, as their export shows them."""
    return await repository.live_sessions(conn, member_id)
