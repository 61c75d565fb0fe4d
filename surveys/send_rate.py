"""The configured send rate of a provider, shared by every scheduler process.

A provider's rate (``MINYI_SMS_SEND_RATE_<PROVIDER>``, messages per second) is a limit
on the whole deployment, not on one process. The cursor row of the provider holds the
next free slot; a claim locks it, takes as many consecutive slots as it claims messages
and moves it on, all in the claim's transaction. Another process claiming at the same
moment waits a few milliseconds for the row and continues after our last slot, so N
schedulers together still send at the configured rate.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import SendRateCursor

#: How far ahead one claim may book slots: bounds how long a batch takes to send, which
#: must stay well inside the claim lease.
BOOKING_HORIZON = dt.timedelta(seconds=60)
#: The slowest rate a claim can honour: one slot per horizon. A slower rate books no whole
#: slot inside the horizon, so :meth:`SendSchedule.capacity` would be 0 on every tick and
#: nothing would ever be sent; configuration refuses it instead.
MIN_RATE_PER_SECOND = 1 / BOOKING_HORIZON.total_seconds()
#: The fastest rate accepted: above any SMS gateway's limit, so a larger value is a typo
#: (0 means no limit), and it keeps :meth:`SendSchedule.capacity`'s arithmetic finite.
MAX_RATE_PER_SECOND = 10_000


@dataclass
class SendSchedule:
    """The slots one claim may use; every slot is at offset 0 when the rate is unlimited."""

    cursor: SendRateCursor | None
    rate_per_second: float | None
    now: dt.datetime
    first_free: dt.datetime

    @classmethod
    def open(cls, session: Session, provider: str, rate_per_second: float | None, now: dt.datetime) -> SendSchedule:
        """Lock the provider's cursor (creating it on first use) until the transaction ends."""
        if not rate_per_second:
            return cls(None, None, now, now)
        cursor = _locked_cursor(session, provider, now)
        return cls(cursor, rate_per_second, now, max(cursor.next_slot_at, now))

    def capacity(self) -> int:
        """How many messages this claim may take without booking past the horizon."""
        if self.rate_per_second is None:
            return sys.maxsize
        free = (self.now + BOOKING_HORIZON - self.first_free).total_seconds()
        return max(0, math.floor(free * self.rate_per_second))

    def take(self, count: int) -> list[float]:
        """Book ``count`` consecutive slots; returns each one's offset in seconds from ``now``."""
        if self.cursor is None or self.rate_per_second is None:
            return [0.0] * count
        interval = 1.0 / self.rate_per_second
        start = (self.first_free - self.now).total_seconds()
        self.cursor.next_slot_at = self.first_free + dt.timedelta(seconds=count * interval)
        return [start + index * interval for index in range(count)]


def _locked_cursor(session: Session, provider: str, now: dt.datetime) -> SendRateCursor:
    cursor = session.get(SendRateCursor, provider, with_for_update=True)
    if cursor is not None:
        return cursor
    try:
        with session.begin_nested():
            session.add(SendRateCursor(provider=provider, next_slot_at=now))
    except IntegrityError:
        pass  # another process created it first; lock theirs
    return session.get_one(SendRateCursor, provider, with_for_update=True, populate_existing=True)
