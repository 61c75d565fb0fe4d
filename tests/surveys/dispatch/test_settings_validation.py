"""Dispatch settings from the environment: a value that would stop sending is refused at start-up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from surveys.dispatch_settings import load_dispatch_settings
from surveys.errors import ConfigurationError
from surveys.policy_admin import LIMITS
from surveys.send_rate import MIN_RATE_PER_SECOND, SendSchedule
from surveys.settings import load_settings

RATE = "MINYI_SMS_SEND_RATE_TWILIO"


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"])
def test_a_send_rate_that_is_not_a_finite_number_is_refused(raw: str):
    with pytest.raises(ConfigurationError, match=RATE):
        load_dispatch_settings({RATE: raw})


@pytest.mark.parametrize("raw", ["0.01", "0.0166", "1e-400"])
def test_a_send_rate_below_one_message_a_minute_is_refused(raw: str):
    with pytest.raises(ConfigurationError, match=rf"{RATE}=.*one message per 60 s"):
        load_dispatch_settings({RATE: raw})


@pytest.mark.parametrize(("raw", "rate"), [("0", None), ("0.0167", 0.0167), ("1", 1.0), ("10000", 10000.0)])
def test_no_limit_and_rates_from_one_message_a_minute_are_accepted(raw: str, rate: float | None):
    assert load_dispatch_settings({RATE: raw}).send_rate("twilio") == rate


def test_the_slowest_accepted_rate_books_a_slot_in_every_horizon(session: Session, now: dt.datetime):
    schedule = SendSchedule.open(session, "twilio", MIN_RATE_PER_SECOND, now)
    assert schedule.capacity() == 1
    assert schedule.take(1) == [0.0]
    assert SendSchedule.open(session, "twilio", MIN_RATE_PER_SECOND, now).capacity() == 0
    a_minute_later = now + dt.timedelta(seconds=60)
    assert SendSchedule.open(session, "twilio", MIN_RATE_PER_SECOND, a_minute_later).capacity() == 1


def test_quiet_hours_are_read_as_hh_mm():
    loaded = load_settings({"MINYI_QUIET_HOURS_START": "22:30", "MINYI_QUIET_HOURS_END": "07:05"})
    assert (loaded.quiet_hours_start, loaded.quiet_hours_end) == (dt.time(22, 30), dt.time(7, 5))


@pytest.mark.parametrize(
    "value",
    ["08:00:30", "08:00:00", "08:00:00.5", "08:00+08:00", "08:00Z", "8:00", "0800", "24:00", "08:60", "０８:００"],
)
def test_a_quiet_hour_that_is_not_exactly_hh_mm_is_refused(value: str):
    with pytest.raises(ConfigurationError, match=r"MINYI_QUIET_HOURS_END=.*HH:MM"):
        load_settings({"MINYI_QUIET_HOURS_END": value})


def test_quiet_hours_ending_when_they_start_are_refused():
    with pytest.raises(ConfigurationError, match="MINYI_QUIET_HOURS_START and MINYI_QUIET_HOURS_END are both 21:00"):
        load_settings({"MINYI_QUIET_HOURS_START": "21:00", "MINYI_QUIET_HOURS_END": "21:00"})


@pytest.mark.parametrize(
    ("variable", "value", "bounds"),
    [
        ("MINYI_SURVEY_DELAY_MINUTES", "-600", "0 and 10080"),
        ("MINYI_SURVEY_DELAY_MINUTES", "10081", "0 and 10080"),
        ("MINYI_SURVEY_EXPIRY_DAYS", "-1", "1 and 30"),
        ("MINYI_SURVEY_EXPIRY_DAYS", "0", "1 and 30"),
        ("MINYI_SURVEY_EXPIRY_DAYS", "31", "1 and 30"),
        ("MINYI_DISPATCH_BATCH_SIZE", "0", "1 and 1000"),
        ("MINYI_DISPATCH_BATCH_SIZE", "-5", "1 and 1000"),
        ("MINYI_DISPATCH_BATCH_SIZE", "1001", "1 and 1000"),
    ],
)
def test_a_number_out_of_range_is_refused_naming_the_variable(variable: str, value: str, bounds: str):
    with pytest.raises(ConfigurationError, match=f"{variable}='{value}' must be between {bounds}"):
        load_settings({variable: value})


@pytest.mark.parametrize(
    ("variable", "setting", "field"),
    [
        ("MINYI_SURVEY_DELAY_MINUTES", "survey_delay_minutes", "delay_minutes"),
        ("MINYI_SURVEY_EXPIRY_DAYS", "survey_expiry_days", "expiry_days"),
    ],
)
def test_the_environment_accepts_exactly_what_the_admin_form_accepts(variable: str, setting: str, field: str):
    low, high, _ = LIMITS[field]
    for inside in (low, high):
        assert getattr(load_settings({variable: str(inside)}), setting) == inside
    for outside in (low - 1, high + 1):
        with pytest.raises(ConfigurationError, match=variable):
            load_settings({variable: str(outside)})


@pytest.mark.parametrize("value", ["1", "1000"])
def test_a_batch_size_in_range_is_accepted(value: str):
    assert load_settings({"MINYI_DISPATCH_BATCH_SIZE": value}).dispatch_batch_size == int(value)
