"""How often an action may be tried: each action has a budget of its own, counted in
PostgreSQL so that every worker sees the same counts, per key (a client's address or an e-mail
address, stored only as a keyed hash).

* ``FAILED_SIGN_IN``: wrong tokens, sign-in links that do not work, per client. Only failures
  count, and only failures are refused: a valid credential is never refused because of what
  others at the same address did (a meeting room on one Wi-Fi, a town hall behind one NAT).
  A client over the limit gets 429 instead of 401 for the rest of the window.
* ``EMAIL_REQUEST``: asking for a sign-in link and applying, per client, with a budget
  generous enough for a meeting of 60 people on one address within ten minutes; they never
  count as failed sign-ins. Each e-mail address also gets at most a few links an hour
  (``service.identity.links``) and a few applications a day (``service.applications``).

The OWASP authentication cheat sheet's advice: throttle failed attempts rather than lock
accounts; Discourse limits anonymous traffic per address and signed-in people per account.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import asyncpg

from service.config import Settings
from service.db import Connection
from service.errors import TooManyRequests
from service.identity import repository


class Action(StrEnum):
    FAILED_SIGN_IN = "failed-sign-in"
    EMAIL_REQUEST = "email-request"


@dataclass(frozen=True, slots=True)
class Budget:
    """``limit`` attempts of one action per key within ``window_seconds``."""

    action: Action
    limit: int
    window_seconds: int

    @classmethod
    def failed_sign_ins(cls, settings: Settings) -> Budget:
        return cls(
            Action.FAILED_SIGN_IN,
            settings.auth_failure_limit,
            settings.auth_failure_window_seconds,
        )

    @classmethod
    def email_requests(cls, settings: Settings) -> Budget:
        return cls(
            Action.EMAIL_REQUEST,
            settings.email_request_limit,
            settings.email_request_window_seconds,
        )


def client_key(address: str) -> str:
    """A client as the counts keep it: a hash of its address (the address is not kept)."""
    return hashlib.sha256(f"peerconsult-client:{address}".encode()).hexdigest()


def wait_seconds(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))


def too_many(until: datetime, *, what: str) -> TooManyRequests:
    return TooManyRequests(
        f"Too many {what} from this client; please wait and try again.",
        retry_after=wait_seconds(until),
    )


async def record_failure(
    db: Connection | asyncpg.Pool, budget: Budget, client: str
) -> datetime | None:
    """Count a failed sign-in of the client; until when it is blocked, if it is. ``db``: the
    pool (committed at once, after the failing request rolled back), or a connection whose
    transaction commits (a page that answers a failure without raising)."""
    _, until = await repository.count_attempt(
        db, budget.action, client, limit=budget.limit, window_seconds=budget.window_seconds
    )
    return until


async def spend(conn: Connection, budget: Budget, client: str, *, what: str) -> None:
    """Count an attempt against the client's budget for this action; 429 once it is spent
    (the count then rolls back with the request, so refused attempts cost nothing more)."""
    count, until = await repository.count_attempt(
        conn, budget.action, client, limit=budget.limit + 1, window_seconds=budget.window_seconds
    )
    if count > budget.limit and until is not None:
        raise too_many(until, what=what)


async def purge_stale(conn: Connection, *, window_seconds: int) -> int:
    """Delete counts whose window and block have both passed; returns how many."""
    return await repository.purge_counts(conn, older_than_seconds=window_seconds)
