"""The public-satisfaction index (民意指数), aggregated in SQL from individual responses.

Formula (docs/index.md): each answer scores ``(overall - 1) × 25`` (非常满意 100 … 非常不满意 0).
A unit's raw index is the mean score of every response in its subtree in the period —
computed from sums and counts, never as an average of averages. Small units are shrunk
toward the whole city's mean with a prior of ``PRIOR_WEIGHT`` answers (a Bayesian
average), so three happy citizens do not put a station on top of the ranking. The
satisfaction rate (满意率: 基本满意 or better) comes with a 95% Wilson interval.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from surveys.models import Case, Response, Survey, Unit

PRIOR_WEIGHT = 20
SATISFIED_MIN_RATING = 3
Z_95 = 1.959964


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


def _subtree_sums(
    session: Session, units: Sequence[Unit], since: dt.datetime, until: dt.datetime
) -> dict[int, tuple[int, float, int]]:
    """(answers, score total, satisfied answers) of each unit's subtree, in one grouped query."""
    target = aliased(Unit, name="target")
    member = aliased(Unit, name="member")
    stmt = (
        select(
            target.id,
            func.count(Response.id),
            _score_sum(),
            func.sum(case((Response.overall >= SATISFIED_MIN_RATING, 1), else_=0)),
        )
        .select_from(target)
        .join(member, member.path.startswith(target.path))
        .join(Case, Case.unit_id == member.id)
        .join(Survey, Survey.case_id == Case.id)
        .join(Response, Response.survey_id == Survey.id)
        .where(target.id.in_([u.id for u in units]), _period_filter(since, until))
        .group_by(target.id)
    )
    return {row[0]: (int(row[1]), float(row[2] or 0), int(row[3] or 0)) for row in session.execute(stmt)}


def compute_unit_indices(
    session: Session, units: Sequence[Unit], since: dt.datetime, until: dt.datetime
) -> list[UnitIndex]:
    """Index of each of ``units`` over its whole subtree, shrunk toward the city mean."""
    if not units:
        return []
    sums = _subtree_sums(session, units, since, until)
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


@dataclass(frozen=True)
class TrendPoint:
    """The index of one unit over one week."""

    week_start: dt.datetime
    responses: int
    raw_index: float | None


def weekly_trend(session: Session, unit: Unit, until: dt.datetime, weeks: int = 12) -> list[TrendPoint]:
    """Raw index of ``unit``'s subtree per week, oldest first (one query per week, no prior needed)."""
    points = []
    for offset in range(weeks, 0, -1):
        start = until - dt.timedelta(weeks=offset)
        count, score_total, _ = _subtree_sums(session, [unit], start, start + dt.timedelta(weeks=1)).get(
            unit.id, (0, 0.0, 0)
        )
        points.append(TrendPoint(start, count, score_total / count if count else None))
    return points
