"""The public-satisfaction index (民意指数), aggregated in SQL from individual responses.

Formula (docs/index.md): each answer scores ``(overall - 1) × 25`` (非常满意 100 … 非常不满意 0).
A unit's raw index is the mean score of every response in its subtree in the period —
computed from sums and counts, never as an average of averages. Small units are shrunk
toward the whole city's mean with a prior of ``PRIOR_WEIGHT`` answers (a Bayesian
average), so three happy citizens do not put a station on top of the ranking. The
satisfaction rate (满意率: 基本满意 or better) comes with a 95% Wilson interval.

Periods are in the deployment's time zone: the dashboard's "last N days" start at a local
midnight, the monthly scorecard (月考评) is a local calendar month, and the trend and the
weekly bulletin (周通报) use local calendar weeks (Monday to Sunday). Their bounds are
computed here in Python and bound as UTC instants, so SQLite and PostgreSQL compare the same values (and a time zone
with daylight saving time gets its 23- and 25-hour days right).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from surveys.errors import ValidationError
from surveys.models import Response, Unit
from surveys.units import subtree_unit_ids

PRIOR_WEIGHT = 20
SATISFIED_MIN_RATING = 3
Z_95 = 1.959964
#: A unit is flagged when its index fell by at least this many points (of 100) from the previous period.
DROP_ALERT_POINTS = 5.0
#: ...and both periods have at least this many answers: below it one or two answers swing the index more.
DROP_ALERT_MIN_RESPONSES = 10


@dataclass(frozen=True)
class UnitIndex:
    """Index figures of one unit's subtree over a period."""

    unit_id: int
    unit_name: str
    responses: int
    raw_index: float | None
    index: float | None
    satisfaction_rate: float | None
    rate_low: float | None
    rate_high: float | None


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (good at small n and near 0 or 1)."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


def _score_sum() -> ColumnElement[int]:
    return func.sum((Response.overall - 1) * 25)


def _period_filter(since: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    return and_(Response.submitted_at >= since, Response.submitted_at < until)


def city_mean(session: Session, since: dt.datetime, until: dt.datetime) -> float | None:
    """Mean score of every response in the period (the shrinkage target)."""
    stmt = select(func.count(Response.id), _score_sum()).where(_period_filter(since, until))
    count, total = session.execute(stmt).one()
    return float(total) / count if count else None


def _unit_sums(since: dt.datetime, until: dt.datetime) -> Subquery:
    """Each unit's own (answers, score total, satisfied answers) over the period, as a subquery.

    Grouped by the answer's unit (the case's, carried on the answer) over the period's
    answers: the period, not the history, and no join to ``surveys`` and ``cases``
    (``ix_responses_period`` holds the time, unit and rating). A grouped subquery is
    computed before anything joins it, so the units join the few rows it yields. Joining
    from the units down through every case they ever had instead took 10 s for a 30-day
    period of a city with a million answers, and joining each answer to its survey and
    case 1.3 s (docs/scaling.md).
    """
    return (
        select(
            Response.unit_id.label("unit_id"),
            func.count(Response.id).label("answers"),
            _score_sum().label("score_total"),
            func.sum(case((Response.overall >= SATISFIED_MIN_RATING, 1), else_=0)).label("satisfied"),
        )
        .where(_period_filter(since, until))
        .group_by(Response.unit_id)
        .subquery("unit_sums")
    )


def _subtree_sums(
    session: Session, units: Sequence[Unit], since: dt.datetime, until: dt.datetime
) -> dict[int, tuple[int, float, int]]:
    """(answers, score total, satisfied answers) of each unit's subtree, in one query.

    The units' own sums added up over each subtree: sums and counts add up exactly, so a
    parent's figure is still that of every response under it.
    """
    own = _unit_sums(since, until)
    target = aliased(Unit, name="target")
    member = aliased(Unit, name="member")
    stmt = (
        select(target.id, func.sum(own.c.answers), func.sum(own.c.score_total), func.sum(own.c.satisfied))
        .select_from(own)
        .join(member, member.id == own.c.unit_id)
        .join(target, member.path.startswith(target.path))
        .where(target.id.in_([u.id for u in units]))
        .group_by(target.id)
    )
    return {row[0]: (int(row[1]), float(row[2] or 0), int(row[3] or 0)) for row in session.execute(stmt)}


def compute_unit_indices(
    session: Session,
    units: Sequence[Unit],
    since: dt.datetime,
    until: dt.datetime,
    prior: float | None = None,
) -> list[UnitIndex]:
    """Index of each of ``units`` over its whole subtree, shrunk toward ``prior``.

    ``prior`` defaults to the period's city mean; a comparison of two periods passes one
    target for both, so a unit's change is its own and not the city's.
    """
    if not units:
        return []
    sums = _subtree_sums(session, units, since, until)
    if prior is None:
        prior = city_mean(session, since, until)
    result = []
    for unit in units:
        count, score_total, satisfied = sums.get(unit.id, (0, 0.0, 0))
        if count == 0:
            result.append(UnitIndex(unit.id, unit.name, 0, None, None, None, None, None))
            continue
        raw = score_total / count
        shrunk = (score_total + PRIOR_WEIGHT * prior) / (count + PRIOR_WEIGHT) if prior is not None else raw
        low, high = wilson_interval(satisfied, count)
        result.append(UnitIndex(unit.id, unit.name, count, raw, shrunk, satisfied / count, low, high))
    return result


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` starts in ``tz``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def recent_days(now: dt.datetime, days: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) of "the last ``days`` days": today and the days before it, in ``tz``.

    The window starts at a local midnight, so a day is either wholly in it or not at all
    (a rolling ``now - days`` window would cut the first day at the current hour).
    """
    today = now.astimezone(tz).date()
    return _local_midnight(today - dt.timedelta(days=days - 1), tz), now


def previous_days(since: dt.datetime, days: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) of the ``days`` whole local days just before ``since`` (a local midnight).

    The period a "last ``days`` days" window is compared with: as many calendar days, so a
    drop alert compares like with like, bounded by local midnights as the window itself is.
    """
    first_day = since.astimezone(tz).date()
    return _local_midnight(first_day - dt.timedelta(days=days), tz), since


@dataclass(frozen=True)
class IndexChange:
    """One unit's index over a period and over the period before it."""

    current: UnitIndex
    previous: UnitIndex

    @property
    def change(self) -> float | None:
        """Current minus previous index; ``None`` when either period has no answers."""
        if self.current.index is None or self.previous.index is None:
            return None
        return self.current.index - self.previous.index


def compare_with_previous(
    session: Session,
    units: Sequence[Unit],
    current: Sequence[UnitIndex],
    period: tuple[dt.datetime, dt.datetime],
    previous_period: tuple[dt.datetime, dt.datetime],
) -> list[IndexChange]:
    """Each row of ``current`` (the units' figures over ``period``) beside the same unit's over ``previous_period``.

    The caller has ``current`` already (its ranking). The previous figures are shrunk
    toward the *current* period's city mean, the target ``current`` was shrunk toward:
    with each period's own city mean, a unit whose answers did not change would still
    "drop" when the rest of the city did. Two queries, whatever the number of units.
    """
    prior = city_mean(session, *period)
    previous = compute_unit_indices(session, units, *previous_period, prior=prior)
    by_unit = {row.unit_id: row for row in previous}
    return [IndexChange(row, by_unit[row.unit_id]) for row in current]


def index_drops(
    changes: Iterable[IndexChange],
    min_points: float = DROP_ALERT_POINTS,
    min_responses: int = DROP_ALERT_MIN_RESPONSES,
) -> list[IndexChange]:
    """The units whose index fell by at least ``min_points``, the largest fall first.

    Only units with at least ``min_responses`` answers in both periods count: with fewer,
    a single unhappy citizen moves the index by more than the threshold (the shrinkage
    toward the city mean damps this, but does not remove it).
    """
    drops = [
        change
        for change in changes
        if change.change is not None
        and change.change <= -min_points
        and min(change.current.responses, change.previous.responses) >= min_responses
    ]
    return sorted(drops, key=lambda change: change.change or 0.0)


#: Months (and bulletin weeks) before this year are refused: no data, and their local midnights may not exist in UTC.
MIN_MONTH_YEAR = 2000
_MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in the deployment's time zone (the monthly scorecard's period)."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        """The month's first day."""
        return dt.date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> dt.date:
        """The first day of the following month (the exclusive end)."""
        return dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def last_day(self) -> dt.date:
        """The month's last day."""
        return self.next_first_day - dt.timedelta(days=1)

    @property
    def previous(self) -> Month:
        """The month before this one."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[since, until) of the whole month as UTC instants."""
        return _local_midnight(self.first_day, tz), _local_midnight(self.next_first_day, tz)


def month_of(moment: dt.datetime, tz: ZoneInfo) -> Month:
    """The calendar month in ``tz`` that ``moment`` falls in."""
    local = moment.astimezone(tz)
    return Month(local.year, local.month)


def last_complete_month(now: dt.datetime, tz: ZoneInfo) -> Month:
    """The latest calendar month in ``tz`` that has ended by ``now``."""
    return month_of(now, tz).previous


def parse_month(text: str, now: dt.datetime, tz: ZoneInfo) -> Month:
    """The month ``text`` names (``YYYY-MM``); not later than the current month in ``tz``.

    The current, unfinished month is allowed (its figures run up to ``now``); a later one
    has no answers yet, and a malformed one is the user's typo: both are refused with a
    reason the user can act on.
    """
    found = _MONTH_PATTERN.fullmatch(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ValidationError("month", "月份格式应为“年-月”，例如 2026-11")
    month = Month(int(found[1]), int(found[2]))
    if month.year < MIN_MONTH_YEAR:
        raise ValidationError("month", f"月份不能早于 {MIN_MONTH_YEAR} 年")
    if month > month_of(now, tz):
        raise ValidationError("month", f"{month} 尚未开始，只能选择本月及以前的月份")
    return month


_DATE_PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


@dataclass(frozen=True, order=True)
class Week:
    """A calendar week, Monday to Sunday, in the deployment's time zone (the weekly bulletin's period)."""

    monday: dt.date

    def __str__(self) -> str:
        return self.monday.isoformat()

    @property
    def sunday(self) -> dt.date:
        """The week's last day."""
        return self.monday + dt.timedelta(days=6)

    @property
    def previous(self) -> Week:
        """The week before this one."""
        return Week(self.monday - dt.timedelta(weeks=1))

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[since, until) of the whole week as UTC instants."""
        return _local_midnight(self.monday, tz), _local_midnight(self.monday + dt.timedelta(weeks=1), tz)


def week_containing(day: dt.date) -> Week:
    """The Monday-to-Sunday week that ``day`` falls in."""
    return Week(day - dt.timedelta(days=day.weekday()))


def last_complete_week(now: dt.datetime, tz: ZoneInfo) -> Week:
    """The latest Monday-to-Sunday week in ``tz`` that has ended by ``now``."""
    return week_containing(now.astimezone(tz).date()).previous


def parse_week(text: str, now: dt.datetime, tz: ZoneInfo) -> Week:
    """The week containing the date ``text`` names (``YYYY-MM-DD``); not later than the current week.

    Any day of the week names it. As with months, the current week is allowed (its figures
    run up to ``now``), and a later or malformed one is refused with a reason.
    """
    found = _DATE_PATTERN.fullmatch(text.strip())
    try:
        day = dt.date(int(found[1]), int(found[2]), int(found[3])) if found else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError("week", "日期格式应为“年-月-日”，例如 2026-11-16")
    if day.year < MIN_MONTH_YEAR:
        raise ValidationError("week", f"日期不能早于 {MIN_MONTH_YEAR} 年")
    week = week_containing(day)
    if week > week_containing(now.astimezone(tz).date()):
        raise ValidationError("week", f"{week.monday} 起的一周尚未开始，只能选择本周及以前的周")
    return week


@dataclass(frozen=True)
class TrendPoint:
    """The index of one unit over one week."""

    week_start: dt.datetime
    responses: int
    raw_index: float | None


def weekly_trend(session: Session, unit: Unit, until: dt.datetime, tz: ZoneInfo, weeks: int = 12) -> list[TrendPoint]:
    """Raw index of ``unit``'s subtree per calendar week in ``tz``, oldest first, in one query.

    The weeks run Monday to Sunday; the last one is the current week, up to ``until``. Each
    answer is put in its week by a ``CASE`` over the weeks' UTC start instants, computed in
    Python (no dialect's date functions, so SQLite and PostgreSQL agree, and weeks that
    cross a daylight-saving change still start at a local midnight). A week without
    answers has no index (``None``), which is not an index of 0.
    """
    this_monday = week_containing(until.astimezone(tz).date()).monday
    starts = [_local_midnight(this_monday - dt.timedelta(weeks=offset), tz) for offset in range(weeks - 1, -1, -1)]
    whens = [(Response.submitted_at < start, index) for index, start in enumerate(starts[1:])]
    week_of: ColumnElement[int] = case(*whens, else_=len(starts) - 1) if whens else literal(0)
    answers = (
        select(week_of.label("week"), Response.overall)
        .where(Response.unit_id.in_(subtree_unit_ids(unit)), _period_filter(starts[0], until))
        .subquery()
    )
    stmt = select(answers.c.week, func.count(), func.sum((answers.c.overall - 1) * 25)).group_by(answers.c.week)
    sums = {int(week): (int(count), float(total or 0)) for week, count, total in session.execute(stmt)}
    points = []
    for index, start in enumerate(starts):
        count, score_total = sums.get(index, (0, 0.0))
        points.append(TrendPoint(start, count, score_total / count if count else None))
    return points


def count_children(session: Session, units: Sequence[Unit]) -> dict[int, int]:
    """How many direct children each of ``units`` has, in one grouped query (units without: 0)."""
    if not units:
        return {}
    stmt = (
        select(Unit.parent_id, func.count(Unit.id))
        .where(Unit.parent_id.in_([u.id for u in units]))
        .group_by(Unit.parent_id)
    )
    found = {int(parent_id): int(count) for parent_id, count in session.execute(stmt) if parent_id is not None}
    return {u.id: found.get(u.id, 0) for u in units}
