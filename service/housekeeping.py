"""The one periodic task: what must happen in the network without anybody asking.

Every worker runs ``run_periodically``; each round, the worker that takes the advisory lock
does the work and the others skip that round, so it runs once per interval whatever the
number of workers or machines. A round, in one transaction:

* invitations past their expiry are stored as ``expired`` (they read as expired from the
  moment they are past it);
* once a day's or a week's period began (7:00, Monday 7:00 German time), its digest e-mails are
  queued (``service.digests``; where the service sends e-mail);
* the records of which digests went out are deleted after two weeks (their period is over);
* a week after a request was accepted, its asker is reminded once to give feedback and record
  what came out of it (``service.outcomes``; where the service sends e-mail);
* e-mail that was delivered, or given up on, leaves the outbox after
  ``PEERCONSULT_OUTBOX_RETENTION_DAYS`` (it holds names and addresses);
* counts of attempts whose window has passed are deleted, sign-in links a day old, and
  browser sessions a day after they ended;
* applications nobody confirmed within 48 hours are deleted, and decided ones after 30 days
  (``service.applications``); questions kept while their author signed in again, after a day;
  new e-mail addresses nobody confirmed in time; files uploaded for an import's preview, after
  a day; what is remembered of an erased member (a keyed hash), after two years.

Each round that did something says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, astuple, dataclass
from datetime import timedelta

import asyncpg

from service import metrics
from service.applications import repository as applications_repository
from service.applications import service as applications_service
from service.digests import repository as digests_repository
from service.digests import service as digests
from service.identity import links, sessions, throttle
from service.identity import repository as identity_repository
from service.members import erasure, import_repository
from service.members import repository as members_repository
from service.notifications import outbox
from service.notifications.mailing import Mailing
from service.outcomes import service as outcomes
from service.questions import repository as questions_repository
from service.requests import repository as requests_repository

log = logging.getLogger(__name__)

# Held for the round's transaction by the worker doing the round.
HOUSEKEEPING_LOCK = 0x70C0_4B45
INTERVAL_SECONDS = 600.0


# A question kept while its author signed in again waits this long.
DRAFTS_KEPT = timedelta(days=1)
# A file uploaded for an import's preview waits this long for the coordinator's go.
IMPORTS_KEPT = timedelta(days=1)
# That a member's digest of a period went out is needed while the period lasts (a week at most).
DIGEST_RUNS_KEPT = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did."""

    expired_requests: int
    purged_messages: int
    purged_sign_in_counts: int
    purged_sign_in_links: int = 0
    purged_applications: int = 0
    purged_drafts: int = 0
    purged_sessions: int = 0
    purged_email_changes: int = 0
    forgotten_erasures: int = 0
    purged_imports: int = 0
    purged_digest_runs: int = 0
    digests: int = 0
    outcome_reminders: int = 0

    def __bool__(self) -> bool:
        return any(astuple(self))


async def run_once(
    pool: asyncpg.Pool,
    *,
    outbox_retention: timedelta,
    counts_window_seconds: int,
    mailing: Mailing | None = None,
) -> Round | None:
    """One round; None when another worker is doing one right now."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", HOUSEKEEPING_LOCK):
            return None
        done = Round(
            expired_requests=await requests_repository.expire_overdue(conn),
            purged_messages=await outbox.purge_delivered(conn, older_than=outbox_retention),
            purged_sign_in_counts=await throttle.purge_stale(
                conn, window_seconds=counts_window_seconds
            ),
            purged_sign_in_links=await identity_repository.purge_links(
                conn, older_than=links.KEPT_FOR
            ),
            purged_sessions=await identity_repository.purge_sessions(
                conn, ended_before=sessions.KEPT_AFTER_END
            ),
            purged_applications=await applications_repository.purge(
                conn,
                unconfirmed_after=applications_service.CONFIRM_WITHIN,
                decided_after=applications_service.KEPT_AFTER_DECISION,
            ),
            purged_drafts=await questions_repository.purge_drafts(conn, older_than=DRAFTS_KEPT),
            purged_email_changes=await members_repository.purge_email_changes(conn),
            forgotten_erasures=await erasure.purge(conn),
            purged_imports=await import_repository.purge_pending_imports(
                conn, older_than=IMPORTS_KEPT
            ),
            purged_digest_runs=await digests_repository.purge_runs(
                conn, older_than=DIGEST_RUNS_KEPT
            ),
            digests=0 if mailing is None else await digests.send_scheduled(conn, mailing),
            outcome_reminders=0 if mailing is None else await outcomes.remind(conn, mailing),
        )
    metrics.HOUSEKEEPING_RUNS.inc()
    metrics.INVITATIONS.labels("expired").inc(done.expired_requests)
    for kind, rows in asdict(done).items():
        metrics.HOUSEKEEPING_ROWS.labels(kind).inc(rows)
    if done:
        log.info(
            "housekeeping: %d invitations expired; deleted %d delivered e-mails, %d sign-in "
            "counts, %d sign-in links, %d applications, %d question drafts, %d ended sessions, "
            "%d unconfirmed address changes, %d erasures older than two years, %d uploaded "
            "import files, %d records of digests sent; queued %d digests and %d reminders to "
            "record how a consultation went",
            *astuple(done),
        )
    return done


async def run_periodically(
    pool: asyncpg.Pool,
    *,
    stop: asyncio.Event,
    outbox_retention: timedelta,
    counts_window_seconds: int,
    mailing: Mailing | None = None,
    interval: float = INTERVAL_SECONDS,
) -> None:
    """A round every ``interval`` seconds until ``stop`` is set. A round that fails is logged
    (in one line when the database is away) and tried again next time."""
    while not stop.is_set():
        try:
            await run_once(
                pool,
                outbox_retention=outbox_retention,
                counts_window_seconds=counts_window_seconds,
                mailing=mailing,
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
