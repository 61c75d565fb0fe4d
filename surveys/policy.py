"""When a survey may be sent: quiet hours and the planning delay."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def in_quiet_hours(moment: dt.datetime, start: dt.time, end: dt.time, tz: ZoneInfo) -> bool:
    """True if ``moment`` falls in the local quiet window (which may cross midnight)."""
    local = moment.astimezone(tz).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_send_window(moment: dt.datetime, start: dt.time, end: dt.time, tz: ZoneInfo) -> dt.datetime:
    """``moment`` itself if outside quiet hours, else the end of the quiet window (UTC)."""
    if not in_quiet_hours(moment, start, end, tz):
        return moment
    local = moment.astimezone(tz)
    opening = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if opening <= local:
        opening += dt.timedelta(days=1)
    return opening.astimezone(dt.UTC)
