"""The dispatch policy: when and whether a citizen is texted, resolved for one unit.

A setting comes from the nearest place that sets it: the unit's own override, then each
ancestor's (a branch's override covers its stations), then the deployment-wide row an
administrator edits, then the environment (``MINYI_SURVEY_DELAY_MINUTES`` …) and the
built-in defaults below. Services load a :class:`PolicyBook` once per batch and ask it
for each unit's :class:`Policy`, so a batch of a thousand surveys costs one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.messages import DEFAULT_REMINDER_TEMPLATE, DEFAULT_SURVEY_TEMPLATE
from surveys.models import CaseCategory, DispatchPolicy, Unit
from surveys.settings import Settings
from surveys.units import ancestor_ids

DEFAULT_FREQUENCY_CAP_DAYS = 30
DEFAULT_SAMPLING_PERCENT = 100
DEFAULT_REMINDER_AFTER_HOURS = 24


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


@dataclass(frozen=True)
class Policy:
    """The effective settings for one unit (every field resolved, nothing inherited)."""

    timezone: ZoneInfo
    delay_minutes: int
    quiet_hours_start: dt.time
    quiet_hours_end: dt.time
    frequency_cap_days: int
    sampling_percent: int
    reminder_after_hours: int
    expiry_days: int
    excluded_categories: frozenset[CaseCategory]
    survey_template: str
    reminder_template: str

    @property
    def delay(self) -> dt.timedelta:
        """Time between closure and the invitation."""
        return dt.timedelta(minutes=self.delay_minutes)

    @property
    def frequency_cap(self) -> dt.timedelta:
        """How long a phone is left alone after being surveyed."""
        return dt.timedelta(days=self.frequency_cap_days)

    @property
    def expiry(self) -> dt.timedelta:
        """How long a sent survey can be answered."""
        return dt.timedelta(days=self.expiry_days)

    @property
    def reminder_after(self) -> dt.timedelta | None:
        """When the one reminder goes out after the invitation; None if reminders are off."""
        return dt.timedelta(hours=self.reminder_after_hours) if self.reminder_after_hours else None

    def in_quiet_hours(self, moment: dt.datetime) -> bool:
        """Whether no SMS may go out at ``moment``."""
        return in_quiet_hours(moment, self.quiet_hours_start, self.quiet_hours_end, self.timezone)

    def next_send_window(self, moment: dt.datetime) -> dt.datetime:
        """The first moment at or after ``moment`` outside quiet hours."""
        return next_send_window(moment, self.quiet_hours_start, self.quiet_hours_end, self.timezone)


def base_values(settings: Settings) -> dict[str, Any]:
    """The values a deployment has before any administrator changed anything."""
    return {
        "delay_minutes": settings.survey_delay_minutes,
        "quiet_hours_start": settings.quiet_hours_start,
        "quiet_hours_end": settings.quiet_hours_end,
        "frequency_cap_days": DEFAULT_FREQUENCY_CAP_DAYS,
        "sampling_percent": DEFAULT_SAMPLING_PERCENT,
        "reminder_after_hours": DEFAULT_REMINDER_AFTER_HOURS,
        "expiry_days": settings.survey_expiry_days,
        "excluded_categories": [],
        "survey_template": DEFAULT_SURVEY_TEMPLATE,
        "reminder_template": DEFAULT_REMINDER_TEMPLATE,
    }


@dataclass(frozen=True)
class PolicyOverrides:
    """What one override row sets; None inherits. The one list of overridable settings.

    The fields are named as the columns of ``dispatch_policies``; the admin form edits
    this shape and :class:`PolicyBook` resolves it.
    """

    delay_minutes: int | None = None
    quiet_hours_start: dt.time | None = None
    quiet_hours_end: dt.time | None = None
    frequency_cap_days: int | None = None
    sampling_percent: int | None = None
    reminder_after_hours: int | None = None
    expiry_days: int | None = None
    excluded_categories: tuple[CaseCategory, ...] | None = None
    survey_template: str | None = None
    reminder_template: str | None = None

    @classmethod
    def of(cls, row: DispatchPolicy | None) -> PolicyOverrides:
        """The overrides ``row`` holds (none without a row)."""
        if row is None:
            return cls()
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        if values["excluded_categories"] is not None:
            values["excluded_categories"] = tuple(CaseCategory(c) for c in values["excluded_categories"])
        return cls(**values)

    def set_values(self) -> dict[str, Any]:
        """Only the settings this row sets."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}


@dataclass
class PolicyBook:
    """Every override row of the deployment, resolving policies per unit with a cache."""

    settings: Settings
    rows: Mapping[int | None, Mapping[str, Any]]
    _cache: dict[tuple[int | None, ...], Policy] = field(default_factory=dict)

    def deployment(self) -> Policy:
        """The policy of a unit without overrides of its own or its ancestors'."""
        return self._resolve([None])

    def for_unit(self, unit: Unit) -> Policy:
        """The effective policy of ``unit``."""
        return self._resolve([None, *reversed(ancestor_ids(unit))])

    def inherited(self, unit: Unit | None) -> Policy:
        """What ``unit`` (None: the deployment) would get without its own override row.

        The admin form shows these values for the fields an administrator leaves blank.
        """
        if unit is None:
            return self._resolve([])
        return self._resolve([None, *reversed(ancestor_ids(unit)[1:])])

    def _resolve(self, layers: list[int | None]) -> Policy:
        """Base values overlaid with ``layers``' rows, farthest first (cached per chain)."""
        key = tuple(layers)
        if key not in self._cache:
            values = base_values(self.settings)
            for layer in layers:
                values.update(self.rows.get(layer, {}))
            values["excluded_categories"] = frozenset(CaseCategory(c) for c in values["excluded_categories"])
            self._cache[key] = Policy(timezone=self.settings.timezone, **values)
        return self._cache[key]


def load_policy_book(session: Session, settings: Settings) -> PolicyBook:
    """Read every override row once (the table has at most one row per unit)."""
    rows = {row.unit_id: PolicyOverrides.of(row).set_values() for row in session.scalars(select(DispatchPolicy))}
    return PolicyBook(settings=settings, rows=rows)
