"""Access tokens: random, shown once, stored only as hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from uuid import UUID

TOKEN_PREFIX = "pc_"
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the coordinator, or a member (with their id)."""

    member_id: UUID | None

    @property
    def is_coordinator(self) -> bool:
        return self.member_id is None

    def may_change(self, member_id: UUID) -> bool:
        return self.is_coordinator or self.member_id == member_id


COORDINATOR = Principal(member_id=None)


def new_token() -> str:
    """A fresh member token (32 random bytes, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> bytes:
    # Tokens carry 256 bits of entropy, so a plain SHA-256 is enough: no salt or stretching is
    # needed to make a stolen hash useless.
    return hashlib.sha256(token.encode("utf-8")).digest()


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(hash_token(given), hash_token(expected))


def hashes_equal(given: bytes, stored: bytes) -> bool:
    return hmac.compare_digest(given, stored)
