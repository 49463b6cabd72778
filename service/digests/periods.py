"""When digests are due: daily at 7:00, weekly on Monday at 7:00, German time. Pure."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from models.members import DigestFrequency
from service.local_time import NETWORK_TIME_ZONE, local

SEND_AT = time(7, 0)
# A period's scheduled digests go out within this long after it began (a server that was down
# at 7:00 sends them when it is back that day); later, the next period's are awaited.
SCHEDULED_WITHIN = timedelta(hours=12)


def length(frequency: DigestFrequency) -> timedelta:
    return timedelta(days=7 if frequency is DigestFrequency.weekly else 1)


def start(frequency: DigestFrequency, now: datetime) -> datetime:
    """When the period that ``now`` (aware) falls in began: the latest 7:00 (daily), or the
    latest Monday 7:00 (weekly), German time (aware, in the network's zone)."""
    today = local(now)
    began = datetime.combine(today.date(), SEND_AT, tzinfo=NETWORK_TIME_ZONE)
    if frequency is DigestFrequency.weekly:
        began -= timedelta(days=today.weekday())
    if began > today:
        began = datetime.combine(
            (began - length(frequency)).date(), SEND_AT, tzinfo=NETWORK_TIME_ZONE
        )
    return began


def key(frequency: DigestFrequency, began: datetime) -> str:
    """The period's name, the idempotency key of its digests: "weekly:2026-12-07"."""
    return f"{frequency.value}:{began.date().isoformat()}"
