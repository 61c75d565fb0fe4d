"""The Chinese SMS texts citizens receive.

A text names the matter in words the citizen recognises (date, unit, kind of matter),
never the case details, and always says how to opt out. UCS-2 SMS hold 70 characters in
one segment and 67 per part when split.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from surveys.models import Case

SINGLE_SEGMENT_CHARS = 70
MULTIPART_SEGMENT_CHARS = 67


def survey_link(base_url: str, token: str) -> str:
    """The public link for a survey token."""
    return f"{base_url.rstrip('/')}/s/{token}"


def survey_text(case: Case, link: str, signature: str, tz: ZoneInfo) -> str:
    """The invitation: 【签名】 + date, unit, kind of matter + link + 回TD退订."""
    closed_local = case.closed_at.astimezone(tz)
    return (
        f"【{signature}】您{closed_local.month}月{closed_local.day}日在{case.unit.name}"
        f"办理的{case.category.label}已办结，请点击评价：{link} 回TD退订"
    )


def reminder_text(case: Case, link: str, signature: str, tz: ZoneInfo) -> str:
    """The single reminder after 24 hours without an answer."""
    closed_local = case.closed_at.astimezone(tz)
    return (
        f"【{signature}】提醒：您{closed_local.month}月{closed_local.day}日在{case.unit.name}"
        f"办理的事项尚未评价，欢迎点击：{link} 回TD退订"
    )


def opt_out_confirmation_text(signature: str) -> str:
    """Sent once after a TD reply."""
    return f"【{signature}】您已退订，今后不再收到回访短信。"


def segment_count(text: str) -> int:
    """How many UCS-2 segments ``text`` costs (1 up to 70 chars, then 67 per part)."""
    length = len(text)
    if length <= SINGLE_SEGMENT_CHARS:
        return 1
    return math.ceil(length / MULTIPART_SEGMENT_CHARS)


def local_date(value: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of ``value`` where the citizen lives."""
    return value.astimezone(tz).date()
