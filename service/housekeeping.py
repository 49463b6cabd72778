"""The one periodic task: what must happen in the network without anybody asking.

Every worker runs ``run_periodically``; each round, the worker that takes the advisory lock
does the work and the others skip that round, so it runs once per interval whatever the
number of workers or machines. A round, in one transaction:

* invitations past their expiry are stored as ``expired`` (they read as expired from the
  moment they are past it);
* e-mail that was delivered, or given up on, leaves the outbox after
  ``PEERCONSULT_OUTBOX_RETENTION_DAYS`` (it holds names and addresses);
* failed sign-in counts whose window has passed are deleted.

Each round that did something says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service import throttle
from service.notifications import outbox
from service.requests import repository as requests_repository

log = logging.getLogger(__name__)

# Held for the round's transaction by the worker doing the round.
HOUSEKEEPING_LOCK = 0x70C0_4B45
INTERVAL_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did."""

    expired_requests: int
    purged_messages: int
    purged_sign_in_counts: int

    def __bool__(self) -> bool:
        return bool(self.expired_requests or self.purged_messages or self.purged_sign_in_counts)


async def run_once(
    pool: asyncpg.Pool, *, outbox_retention: timedelta, sign_in_window_seconds: int
) -> Round | None:
    """One round; None when another worker is doing one right now."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", HOUSEKEEPING_LOCK):
            return None
        done = Round(
            expired_requests=await requests_repository.expire_overdue(conn),
            purged_messages=await outbox.purge_delivered(conn, older_than=outbox_retention),
            purged_sign_in_counts=await throttle.purge_stale(
                conn, window_seconds=sign_in_window_seconds
            ),
        )
    if done:
        log.info(
            "housekeeping: %d invitations expired, %d delivered e-mails and %d sign-in counts "
            "deleted",
            done.expired_requests,
            done.purged_messages,
            done.purged_sign_in_counts,
        )
    return done


async def run_periodically(
    pool: asyncpg.Pool,
    *,
    stop: asyncio.Event,
    outbox_retention: timedelta,
    sign_in_window_seconds: int,
    interval: float = INTERVAL_SECONDS,
) -> None:
    """A round every ``interval`` seconds until ``stop`` is set. A round that fails is logged
    (in one line when the database is away) and tried again next time."""
    while not stop.is_set():
        try:
            await run_once(
                pool,
                outbox_retention=outbox_retention,
                sign_in_window_seconds=sign_in_window_seconds,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning(
                "housekeeping: round failed (%s); next try in %.0f s",
                type(exc).__name__,
                interval,
            )
        except Exception:
            log.exception("housekeeping: round failed; next try in %.0f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
