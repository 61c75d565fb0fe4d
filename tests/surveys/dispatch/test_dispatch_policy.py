"""The policy: quiet hours across midnight, and settings inherited down the unit tree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from surveys.models import CaseCategory, DispatchPolicy, Unit
from surveys.policy import in_quiet_hours, load_policy_book, next_send_window
from surveys.settings import Settings
from tests.surveys.dispatch.conftest import SHANGHAI, local

NIGHT = (dt.time(21, 0), dt.time(8, 0))


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (3, 15, True), (7, 59, True), (8, 0, False)],
)
def test_quiet_hours_cross_midnight(hour: int, minute: int, quiet: bool):
    assert in_quiet_hours(local(2026, 11, 20, hour, minute), *NIGHT, SHANGHAI) is quiet


def test_a_daytime_quiet_window_does_not_wrap():
    lunch = (dt.time(12, 0), dt.time(13, 30))
    assert in_quiet_hours(local(2026, 11, 20, 12, 45), *lunch, SHANGHAI)
    assert not in_quiet_hours(local(2026, 11, 20, 23, 0), *lunch, SHANGHAI)


def test_equal_start_and_end_mean_no_quiet_hours():
    assert not in_quiet_hours(local(2026, 11, 20, 3), dt.time(0), dt.time(0), SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "window"),
    [
        (local(2026, 11, 20, 22, 30), local(2026, 11, 21, 8)),  # before midnight: next morning
        (local(2026, 11, 21, 1, 0), local(2026, 11, 21, 8)),  # after midnight: the same morning
        (local(2026, 11, 20, 14, 0), local(2026, 11, 20, 14, 0)),  # daytime: at once
    ],
)
def test_next_send_window_is_the_end_of_the_quiet_hours(moment: dt.datetime, window: dt.datetime):
    assert next_send_window(moment, *NIGHT, SHANGHAI) == window


def test_without_overrides_the_environment_and_built_in_defaults_apply(
    session: Session, settings: Settings, make_unit: Callable[..., Unit]
):
    policy = load_policy_book(session, settings).for_unit(make_unit())
    assert (policy.delay_minutes, policy.expiry_days) == (settings.survey_delay_minutes, settings.survey_expiry_days)
    assert (policy.quiet_hours_start, policy.quiet_hours_end) == NIGHT
    assert (policy.frequency_cap_days, policy.sampling_percent, policy.reminder_after_hours) == (30, 100, 24)
    assert policy.excluded_categories == frozenset()


def test_overrides_are_inherited_down_the_tree_nearest_first(
    session: Session,
    settings: Settings,
    make_unit: Callable[..., Unit],
    make_policy: Callable[..., DispatchPolicy],
):
    city = make_unit()
    east, west = make_unit(parent=city), make_unit(parent=city)
    station, sibling = make_unit(parent=east), make_unit(parent=east)
    make_policy(None, delay_minutes=60, excluded_categories=["criminal"])
    make_policy(east, quiet_hours_start=dt.time(22), quiet_hours_end=dt.time(7), delay_minutes=30)
    make_policy(station, sampling_percent=50)
    book = load_policy_book(session, settings)

    mine = book.for_unit(station)
    assert (mine.delay_minutes, mine.quiet_hours_start, mine.sampling_percent) == (30, dt.time(22), 50)
    assert mine.excluded_categories == {CaseCategory.CRIMINAL}
    assert book.for_unit(sibling).sampling_percent == 100
    assert book.for_unit(sibling).quiet_hours_start == dt.time(22)
    assert (book.for_unit(west).delay_minutes, book.for_unit(west).quiet_hours_start) == (60, dt.time(21))
    assert book.inherited(station).sampling_percent == 100
    assert book.inherited(east).delay_minutes == 60
    assert book.inherited(None).delay_minutes == settings.survey_delay_minutes
