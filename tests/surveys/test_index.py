"""The index is aggregated from individual responses over whole subtrees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.index import PRIOR_WEIGHT, compute_unit_indices, weekly_trend, wilson_interval
from surveys.models import Case, Channel, Survey, Unit


@pytest.fixture
def answer(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
) -> Callable[[Unit, int], None]:
    def factory(unit: Unit, overall: int) -> None:
        survey = make_survey(case=make_case(unit=unit))
        submit_answer(session, survey, AnswerInput(overall=overall), Channel.WEB, now - dt.timedelta(hours=1))

    return factory


def test_parent_figure_comes_from_every_response_not_average_of_averages(
    session: Session, make_unit: Callable[..., Unit], answer: Callable[[Unit, int], None], now: dt.datetime
):
    city = make_unit()
    branch = make_unit(parent=city)
    big = make_unit(parent=branch)
    small = make_unit(parent=branch)
    for _ in range(9):
        answer(big, 5)  # 100 points each
    answer(small, 1)  # 0 points
    rows = compute_unit_indices(session, [city, branch, big, small], now - dt.timedelta(days=1), now)
    by_unit = {row.unit_id: row for row in rows}
    assert by_unit[branch.id].responses == 10
    assert by_unit[branch.id].raw_index == pytest.approx(90.0)  # not (100 + 0) / 2
    assert by_unit[city.id].raw_index == pytest.approx(90.0)
    assert by_unit[small.id].raw_index == pytest.approx(0.0)
    # A single answer is shrunk strongly toward the city mean; nine are shrunk less.
    assert by_unit[small.id].index == pytest.approx((0 + PRIOR_WEIGHT * 90) / (1 + PRIOR_WEIGHT))
    assert by_unit[big.id].index == pytest.approx((900 + PRIOR_WEIGHT * 90) / (9 + PRIOR_WEIGHT))
    assert by_unit[branch.id].satisfaction_rate == pytest.approx(0.9)


def test_unit_without_answers_has_no_index(session: Session, make_unit: Callable[..., Unit], now: dt.datetime):
    [row] = compute_unit_indices(session, [make_unit()], now - dt.timedelta(days=30), now)
    assert row.responses == 0
    assert row.index is None


def test_answers_outside_the_period_do_not_count(
    session: Session, make_unit: Callable[..., Unit], answer: Callable[[Unit, int], None], now: dt.datetime
):
    unit = make_unit()
    answer(unit, 5)
    [row] = compute_unit_indices(session, [unit], now - dt.timedelta(days=30), now - dt.timedelta(days=2))
    assert row.responses == 0


@pytest.mark.parametrize(("successes", "total"), [(0, 10), (5, 10), (10, 10), (99, 100)])
def test_wilson_interval_contains_the_proportion(successes: int, total: int):
    low, high = wilson_interval(successes, total)
    assert 0.0 <= low <= successes / total <= high <= 1.0


def test_wilson_interval_narrows_with_more_answers():
    small_low, small_high = wilson_interval(5, 10)
    large_low, large_high = wilson_interval(50, 100)
    assert large_high - large_low < small_high - small_low


def test_weekly_trend_buckets_answers_by_week(
    session: Session, make_unit: Callable[..., Unit], answer: Callable[[Unit, int], None], now: dt.datetime
):
    unit = make_unit()
    answer(unit, 5)
    answer(unit, 1)
    points = weekly_trend(session, unit, now, weeks=3)
    assert [p.responses for p in points] == [0, 0, 2]
    assert [p.raw_index for p in points] == [None, None, pytest.approx(50.0)]
    assert points[-1].week_start == now - dt.timedelta(weeks=1)
