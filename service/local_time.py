"""The network's time: what people read (pages, e-mails) is German local time; the database
and the API keep UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# The IANA database comes from the system, or from the tzdata package where it has none.
NETWORK_TIME_ZONE = ZoneInfo("Europe/Berlin")


def local(moment: datetime) -> datetime:
    """``moment`` (aware) in the network's time zone."""
    return moment.astimezone(NETWORK_TIME_ZONE)
