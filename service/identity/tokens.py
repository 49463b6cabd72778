"""Access tokens: random, shown once, stored only as hashes, compared in constant time. The
coordinator's is ``PEERCONSULT_ADMIN_TOKEN``; a member's is made with the member and replaced
by ``rotate``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import UUID

from pydantic import SecretStr

from service.db import Connection
from service.errors import Forbidden, NotFound
from service.identity import repository
from service.identity.principals import COORDINATOR, MemberPrincipal, Principal

TOKEN_PREFIX = "pc_"
TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh member token (32 random bytes, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> bytes:
    # Tokens and the secrets of links and sessions carry 256 bits of entropy, so a plain
    # SHA-256 is enough: no salt or stretching is needed to make a stolen hash useless.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(hash_secret(given), hash_secret(expected))


async def authenticate(
    conn: Connection, token: str, *, admin_token: SecretStr | None
) -> Principal | None:
    """Who this token belongs to: the coordinator (``admin_token``), a member, or nobody."""
    if admin_token is not None and tokens_equal(token, admin_token.get_secret_value()):
        return COORDINATOR
    token_hash = hash_secret(token)
    found = await repository.member_with_token(conn, token_hash)
    if found is None or not hmac.compare_digest(token_hash, found[1]):
        return None
    return MemberPrincipal(member_id=found[0])


async def rotate(conn: Connection, principal: Principal, member_id: UUID) -> str:
    """A new token for the member; the old one stops working when this commits, and with it
    the member's sign-in links and browser sessions."""
    if not principal.may_act_for(member_id):
        raise Forbidden("Members may change only their own profile.")
    if not await repository.lock_member(conn, member_id):
        raise NotFound(f"No member with id {member_id}.")
    token = new_token()
    await repository.set_token_hash(conn, member_id, hash_secret(token))
    await repository.end_links(conn, member_id)
    await repository.end_member_sessions(conn, member_id)
    return token
