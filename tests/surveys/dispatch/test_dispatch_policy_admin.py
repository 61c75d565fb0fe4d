"""Administrators' policy changes: validated, stored sparsely, audited, costs shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, CaseCategory, Role, Unit, User
from surveys.policy import PolicyOverrides, load_policy_book
from surveys.policy_admin import (
    PolicyValidationError,
    clear_policy,
    policy_row,
    save_policy,
    template_checks,
    validate_overrides,
)
from surveys.settings import Settings


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


def test_a_unit_override_is_stored_sparsely_and_audited(
    session: Session, settings: Settings, admin: User, make_unit: Callable[..., Unit], now: dt.datetime
):
    unit = make_unit()
    change = PolicyOverrides(sampling_percent=20, excluded_categories=(CaseCategory.CRIMINAL,))
    row = save_policy(session, unit, change, admin, now)
    assert (row.sampling_percent, row.excluded_categories, row.delay_minutes) == (20, ["criminal"], None)
    assert (row.updated_at, row.updated_by_id) == (now, admin.id)
    assert PolicyOverrides.of(row) == change
    policy = load_policy_book(session, settings).for_unit(unit)
    assert (policy.sampling_percent, policy.delay_minutes) == (20, settings.survey_delay_minutes)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "dispatch_policy.update")).one()
    assert (entry.actor_id, entry.target_id, entry.detail) == (
        admin.id,
        unit.id,
        {"sampling_percent": 20, "excluded_categories": ["criminal"]},
    )
    assert clear_policy(session, unit, admin, now)
    assert policy_row(session, unit) is None
    assert not clear_policy(session, unit, admin, now)


def test_saving_again_replaces_the_override(session: Session, admin: User, now: dt.datetime):
    save_policy(session, None, PolicyOverrides(delay_minutes=30, frequency_cap_days=10), admin, now)
    row = save_policy(session, None, PolicyOverrides(delay_minutes=60), admin, now)
    assert (row.delay_minutes, row.frequency_cap_days) == (60, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (PolicyOverrides(sampling_percent=101), "sampling_percent"),
        (PolicyOverrides(delay_minutes=-1), "delay_minutes"),
        (PolicyOverrides(expiry_days=0), "expiry_days"),
        (PolicyOverrides(frequency_cap_days=400), "frequency_cap_days"),
        (PolicyOverrides(quiet_hours_start=dt.time(21)), "quiet_hours_start"),
        (PolicyOverrides(quiet_hours_start=dt.time(21), quiet_hours_end=dt.time(21)), "quiet_hours_end"),
        (PolicyOverrides(quiet_hours_start=dt.time(21), quiet_hours_end=dt.time(8, 0, 30)), "quiet_hours_end"),
        (
            PolicyOverrides(quiet_hours_start=dt.time(21, tzinfo=dt.UTC), quiet_hours_end=dt.time(8)),
            "quiet_hours_start",
        ),
        (PolicyOverrides(survey_template="请点击评价：{link:.20} 回TD退订"), "survey_template"),
        (PolicyOverrides(survey_template="请评价 回TD退订"), "survey_template"),
        (PolicyOverrides(reminder_template="提醒{link}"), "reminder_template"),
    ],
)
def test_invalid_changes_are_refused_with_the_field(
    session: Session, admin: User, now: dt.datetime, change: PolicyOverrides, field: str
):
    with pytest.raises(PolicyValidationError) as caught:
        save_policy(session, None, change, admin, now)
    assert field in caught.value.errors
    assert policy_row(session, None) is None


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (dt.time(21), "不能与开始时间相同"),
        (dt.time(8, 0, 30), "只能精确到分钟"),
        (dt.time(8, 0, 0, 1), "只能精确到分钟"),
    ],
)
def test_a_quiet_window_that_would_not_work_is_explained_in_chinese(end: dt.time, reason: str):
    with pytest.raises(PolicyValidationError) as caught:
        validate_overrides(PolicyOverrides(quiet_hours_start=dt.time(21), quiet_hours_end=end))
    assert reason in caught.value.errors["quiet_hours_end"]


def test_a_template_longer_than_one_segment_is_warned_about(session: Session, settings: Settings):
    policy = load_policy_book(session, settings).deployment()
    short = dataclasses.replace(policy, survey_template="请评价：{link} 回TD退订")
    survey_check, reminder_check = template_checks(short, settings, "府山派出所")
    assert (survey_check.segments, survey_check.warning) == (1, None)
    assert reminder_check.segments == 2
    assert reminder_check.warning is not None
    assert "府山派出所" in reminder_check.warning
    assert "2 条" in reminder_check.warning
