"""Who is calling, and their access tokens: random, shown once, stored only as hashes,
compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from uuid import UUID

TOKEN_PREFIX = "pc_"
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class CoordinatorPrincipal:
    """The network's coordinator (``PEERCONSULT_ADMIN_TOKEN``): sees and changes every member,
    and has no profile of their own, so asks no questions and gets no invitations."""

    def may_act_for(self, member_id: UUID) -> bool:
        """The coordinator acts for every member."""
        return True


@dataclass(frozen=True, slots=True)
class MemberPrincipal:
    """A member of the network, by their own token or browser session."""

    member_id: UUID

    def may_act_for(self, member_id: UUID) -> bool:
        """A member acts only for themselves."""
        return member_id == self.member_id


Principal = CoordinatorPrincipal | MemberPrincipal

COORDINATOR = CoordinatorPrincipal()


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
