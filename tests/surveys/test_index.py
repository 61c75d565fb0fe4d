"""The index is aggregated from individual responses over whole subtrees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.errors import ValidationError
from surveys.index import (
    DROP_ALERT_MIN_RESPONSES,
    DROP_ALERT_POINTS,
    PRIOR_WEIGHT,
    IndexChange,
    Month,
    UnitIndex,
    Week,
    compare_with_previous,
    compute_unit_indices,
    count_children,
    index_drops,
    last_complete_month,
    last_complete_week,
    parse_month,
    parse_week,
    previous_days,
    recent_days,
    weekly_trend,
    wilson_interval,
)
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


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_weekly_trend_buckets_answers_by_local_calendar_week(
    session: Session, make_unit: Callable[..., Unit], answer: Callable[[Unit, int], None], now: dt.datetime
):
    unit = make_unit()
    answer(unit, 5)
    answer(unit, 1)
    points = weekly_trend(session, unit, now, SHANGHAI, weeks=3)
    assert [p.responses for p in points] == [0, 0, 2]
    assert [p.raw_index for p in points] == [None, None, pytest.approx(50.0)]
    # now is Friday 2026-11-20 14:00 in Shanghai: the current week began on Monday 11-16 at 00:00 there
    assert [p.week_start for p in points] == [
        dt.datetime(2026, 11, 1, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 8, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 15, 16, tzinfo=dt.UTC),
    ]


def test_weekly_trend_puts_an_answer_in_its_local_week(
    session: Session, make_unit: Callable[..., Unit], make_case: Callable[..., Case], make_survey: Callable[..., Survey]
):
    unit = make_unit()
    for answered_at, overall in [
        (dt.datetime(2026, 11, 15, 15, 30, tzinfo=dt.UTC), 1),  # Sunday 23:30 in Shanghai: the earlier week
        (dt.datetime(2026, 11, 15, 16, 30, tzinfo=dt.UTC), 5),  # Monday 00:30 in Shanghai: the later week
    ]:
        survey = make_survey(case=make_case(unit=unit), expires_at=answered_at + dt.timedelta(days=1))
        submit_answer(session, survey, AnswerInput(overall=overall), Channel.WEB, answered_at)
    points = weekly_trend(session, unit, dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC), SHANGHAI, weeks=2)
    assert [(p.responses, p.raw_index) for p in points] == [(1, 0.0), (1, 100.0)]


def test_weekly_trend_weeks_start_at_local_midnight_across_daylight_saving(
    session: Session, make_unit: Callable[..., Unit]
):
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends on 2026-10-25
    points = weekly_trend(session, make_unit(), dt.datetime(2026, 11, 4, 12, tzinfo=dt.UTC), berlin, weeks=4)
    local_starts = [p.week_start.astimezone(berlin) for p in points]
    assert [(d.month, d.day, d.hour, d.weekday()) for d in local_starts] == [
        (10, 12, 0, 0),
        (10, 19, 0, 0),
        (10, 26, 0, 0),
        (11, 2, 0, 0),
    ]


def test_weekly_trend_is_one_query(
    session: Session, make_unit: Callable[..., Unit], answer: Callable[[Unit, int], None], now: dt.datetime
):
    unit = make_unit()
    answer(unit, 4)
    statements: list[str] = []
    engine = session.get_bind().engine

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        points = weekly_trend(session, unit, now, SHANGHAI)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(points) == 12
    assert points[-1].responses == 1
    assert len(statements) == 1


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC), Month(2026, 11)),  # 09:00 on 12-01 in Shanghai
        (dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.UTC), Month(2026, 10)),  # 23:59 on 11-30 in Shanghai
        (dt.datetime(2026, 1, 15, 4, 0, tzinfo=dt.UTC), Month(2025, 12)),
    ],
)
def test_last_complete_month_is_local(now: dt.datetime, expected: Month):
    assert last_complete_month(now, SHANGHAI) == expected


def test_month_bounds_are_local_midnights():
    since, until = Month(2026, 11).bounds(SHANGHAI)
    assert since == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    assert until == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
    assert Month(2026, 12).bounds(SHANGHAI)[1] == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert (Month(2026, 2).first_day, Month(2026, 2).last_day) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.mark.parametrize("text", ["2026-11", " 2026-11 ", "2026-01", "2000-01"])
def test_parse_month_accepts_this_month_and_earlier(text: str, now: dt.datetime):
    month = parse_month(text, now, SHANGHAI)
    assert month <= Month(2026, 11)
    assert str(month) == text.strip()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13", "格式"),
        ("2026-00", "格式"),
        ("2026-1", "格式"),
        ("202611", "格式"),
        ("２０２６-１１", "格式"),
        ("2026-11-01", "格式"),
        ("", "格式"),
        ("2026-12", "尚未开始"),
        ("9999-12", "尚未开始"),
        ("1999-12", "不能早于"),
        ("0000-01", "不能早于"),
    ],
)
def test_parse_month_refuses_malformed_and_future_months(text: str, reason: str, now: dt.datetime):
    with pytest.raises(ValidationError) as refused:
        parse_month(text, now, SHANGHAI)
    assert refused.value.field == "month"
    assert reason in refused.value.reason


def test_recent_days_start_at_a_local_midnight(now: dt.datetime):
    since, until = recent_days(now, 7, SHANGHAI)
    assert until == now
    assert since == dt.datetime(2026, 11, 13, 16, tzinfo=dt.UTC)  # 2026-11-14 00:00 in Shanghai


def test_count_children_counts_direct_children_only(session: Session, make_unit: Callable[..., Unit]):
    city = make_unit()
    branch = make_unit(parent=city)
    lone = make_unit(parent=city)
    for _ in range(3):
        make_unit(parent=branch)
    assert count_children(session, [city, branch, lone]) == {city.id: 2, branch.id: 3, lone.id: 0}


def _figures(unit_id: int, responses: int, index: float | None) -> UnitIndex:
    return UnitIndex(unit_id, f"单位{unit_id}", responses, index, index, None, None, None)


@pytest.mark.parametrize(
    ("previous", "current", "is_flagged"),
    [
        ((DROP_ALERT_MIN_RESPONSES, 90.0), (DROP_ALERT_MIN_RESPONSES, 90.0 - DROP_ALERT_POINTS), True),
        ((50, 90.0), (50, 60.0), True),
        ((50, 90.0), (50, 90.0 - DROP_ALERT_POINTS + 0.1), False),  # a smaller fall
        ((50, 60.0), (50, 90.0), False),  # a rise
        ((DROP_ALERT_MIN_RESPONSES - 1, 90.0), (50, 60.0), False),  # too few answers before
        ((50, 90.0), (DROP_ALERT_MIN_RESPONSES - 1, 60.0), False),  # too few answers now
        ((0, None), (50, 60.0), False),  # no answers before: nothing to compare
    ],
)
def test_index_drops_needs_the_threshold_and_enough_answers_in_both_periods(
    previous: tuple[int, float | None], current: tuple[int, float | None], is_flagged: bool
):
    change = IndexChange(_figures(1, *current), _figures(1, *previous))
    assert index_drops([change]) == ([change] if is_flagged else [])


def test_index_drops_lists_the_largest_fall_first():
    small = IndexChange(_figures(1, 30, 80.0), _figures(1, 30, 86.0))
    large = IndexChange(_figures(2, 30, 60.0), _figures(2, 30, 90.0))
    steady = IndexChange(_figures(3, 30, 90.0), _figures(3, 30, 90.0))
    assert index_drops([small, steady, large]) == [large, small]
    assert large.change == pytest.approx(-30.0)


def test_previous_days_are_as_many_whole_local_days_just_before(now: dt.datetime):
    since, _ = recent_days(now, 7, SHANGHAI)  # 2026-11-14 00:00 in Shanghai
    assert previous_days(since, 7, SHANGHAI) == (dt.datetime(2026, 11, 6, 16, tzinfo=dt.UTC), since)


def test_compare_with_previous_flags_a_units_own_fall_in_two_queries(
    session: Session,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    city = make_unit()
    falling, steady = make_unit(parent=city), make_unit(parent=city)
    since, until = recent_days(now, 7, SHANGHAI)
    before = previous_days(since, 7, SHANGHAI)
    for unit, earlier, later in [(falling, 5, 2), (steady, 4, 4)]:
        for answered_at, overall in [
            (before[0] + dt.timedelta(days=2), earlier),
            (until - dt.timedelta(hours=1), later),
        ]:
            for _ in range(DROP_ALERT_MIN_RESPONSES):
                survey = make_survey(case=make_case(unit=unit), expires_at=answered_at + dt.timedelta(days=1))
                submit_answer(session, survey, AnswerInput(overall=overall), Channel.WEB, answered_at)
    current = compute_unit_indices(session, [falling, steady], since, until)
    statements: list[str] = []
    engine = session.get_bind().engine

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        changes = compare_with_previous(session, [falling, steady], current, (since, until), before)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2  # the subtree sums and the city mean, for every unit at once
    assert [c.previous.responses for c in changes] == [DROP_ALERT_MIN_RESPONSES] * 2
    assert [c.previous.raw_index for c in changes] == [pytest.approx(100.0), pytest.approx(75.0)]
    # Both periods are shrunk toward this period's city mean: the steady unit did not drop
    # although the city did, and the falling unit's change is its own.
    assert changes[1].change == pytest.approx(0.0)
    assert changes[0].change == pytest.approx(
        (25 - 100) * DROP_ALERT_MIN_RESPONSES / (DROP_ALERT_MIN_RESPONSES + PRIOR_WEIGHT)
    )
    [drop] = index_drops(changes)
    assert drop.current.unit_id == falling.id


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC), dt.date(2026, 11, 9)),  # Friday
        (dt.datetime(2026, 11, 15, 15, 59, tzinfo=dt.UTC), dt.date(2026, 11, 2)),  # Sunday 23:59 in Shanghai
        (dt.datetime(2026, 11, 15, 16, 0, tzinfo=dt.UTC), dt.date(2026, 11, 9)),  # Monday 00:00 in Shanghai
    ],
)
def test_last_complete_week_is_local(now: dt.datetime, expected: dt.date):
    week = last_complete_week(now, SHANGHAI)
    assert (week.monday, week.sunday) == (expected, expected + dt.timedelta(days=6))


def test_week_bounds_are_local_midnights():
    assert Week(dt.date(2026, 11, 9)).bounds(SHANGHAI) == (
        dt.datetime(2026, 11, 8, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 15, 16, tzinfo=dt.UTC),
    )
    assert Week(dt.date(2026, 11, 9)).previous == Week(dt.date(2026, 11, 2))


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-11-09", "2026-11-09"),
        (" 2026-11-15 ", "2026-11-09"),
        ("2026-11-22", "2026-11-16"),
        ("2000-01-01", "1999-12-27"),
    ],
)
def test_parse_week_accepts_any_day_of_this_week_or_earlier(text: str, monday: str, now: dt.datetime):
    assert str(parse_week(text, now, SHANGHAI)) == monday


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-11-31", "格式"),
        ("2026-11-1", "格式"),
        ("2026/11/16", "格式"),
        ("2026-11", "格式"),
        ("２０２６-１１-１６", "格式"),
        ("", "格式"),
        ("2026-11-23", "尚未开始"),
        ("9999-12-31", "尚未开始"),
        ("1999-12-31", "不能早于"),
    ],
)
def test_parse_week_refuses_malformed_and_future_weeks(text: str, reason: str, now: dt.datetime):
    with pytest.raises(ValidationError) as refused:
        parse_week(text, now, SHANGHAI)
    assert refused.value.field == "week"
    assert reason in refused.value.reason
