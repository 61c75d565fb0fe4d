"""Planning with explicit clocks: every closed case yields surveys, planned or skipped with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Case, CaseCategory, CitizenRole, DispatchPolicy, Survey, Unit
from surveys.optouts import opt_out
from surveys.planning import plan_case, plan_due_cases
from surveys.settings import Settings
from surveys.skip_reasons import SkipReason
from surveys.states import SurveyStatus
from surveys.suppressions import suppress_phone
from tests.surveys.dispatch.conftest import local

NOON = local(2026, 11, 20, 12)
PHONE = "+8613800000001"


def surveys_of(session: Session, case: Case) -> list[Survey]:
    return list(session.scalars(select(Survey).where(Survey.case_id == case.id).order_by(Survey.id)))


def test_each_citizen_of_a_case_gets_a_survey_with_their_role(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    case = make_case(phones=["+8613800000011", "+8613800000012"], closed_at=NOON - dt.timedelta(hours=3))
    case.participants[1].role = CitizenRole.PARTY
    report = plan_due_cases(session, NOON, settings)
    assert report.planned == 2
    surveys = surveys_of(session, case)
    assert [s.citizen_role for s in surveys] == [CitizenRole.REPORTER, CitizenRole.PARTY]
    assert {s.contact.phone_e164 for s in surveys} == {"+8613800000011", "+8613800000012"}
    assert len({s.token for s in surveys}) == 2
    assert case.is_planned
    assert plan_due_cases(session, NOON, settings).planned == 0  # planned once only


def test_due_time_is_closure_plus_delay(session: Session, settings: Settings, make_case: Callable[..., Case]):
    case = make_case(closed_at=NOON - dt.timedelta(minutes=30))
    plan_due_cases(session, NOON, settings)
    [survey] = surveys_of(session, case)
    assert survey.due_at == NOON + dt.timedelta(minutes=90)
    assert survey.expires_at == survey.due_at + dt.timedelta(days=7)


def test_a_due_time_in_quiet_hours_waits_for_the_morning(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    closed = local(2026, 11, 20, 20, 30)  # + 2 h = 22:30, inside 21:00–08:00
    case = make_case(closed_at=closed)
    plan_due_cases(session, closed + dt.timedelta(minutes=5), settings)
    [survey] = surveys_of(session, case)
    assert survey.status is SurveyStatus.PLANNED
    assert survey.due_at == local(2026, 11, 21, 8)


@pytest.mark.parametrize(
    ("previous_status", "sent_days_ago", "expected"),
    [
        (SurveyStatus.ANSWERED, 10, SkipReason.FREQUENCY_CAP),
        (SurveyStatus.EXPIRED, 29, SkipReason.FREQUENCY_CAP),
        (SurveyStatus.UNKNOWN, 3, SkipReason.FREQUENCY_CAP),  # it may have reached the citizen
        (SurveyStatus.ANSWERED, 31, None),
        (SurveyStatus.FAILED, 2, None),  # never reached the citizen
    ],
)
def test_frequency_cap_counts_any_case_of_the_same_phone(
    session: Session,
    settings: Settings,
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    previous_status: SurveyStatus,
    sent_days_ago: int,
    expected: SkipReason | None,
):
    at = NOON - dt.timedelta(days=sent_days_ago)
    make_survey(previous_status, case=make_case(phones=[PHONE]), sent_at=at, sending_at=at)
    case = make_case(phones=[PHONE], closed_at=NOON - dt.timedelta(hours=2))
    [survey] = plan_case(session, case, NOON, settings)
    assert survey.skip_reason == expected
    assert survey.status is (SurveyStatus.SKIPPED if expected else SurveyStatus.PLANNED)


def test_two_cases_of_one_phone_in_one_batch_send_one_survey(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    first = make_case(phones=[PHONE], closed_at=NOON - dt.timedelta(hours=4))
    second = make_case(phones=[PHONE], closed_at=NOON - dt.timedelta(hours=3))
    report = plan_due_cases(session, NOON, settings)
    assert (report.planned, report.skipped) == (1, 1)
    assert surveys_of(session, first)[0].status is SurveyStatus.PLANNED
    assert surveys_of(session, second)[0].skip_reason == SkipReason.FREQUENCY_CAP


def test_a_unit_can_lower_the_frequency_cap(
    session: Session,
    settings: Settings,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    make_policy: Callable[..., DispatchPolicy],
):
    unit = make_unit()
    make_policy(unit, frequency_cap_days=7)
    at = NOON - dt.timedelta(days=10)
    make_survey(SurveyStatus.ANSWERED, case=make_case(phones=[PHONE]), sent_at=at)
    [survey] = plan_case(session, make_case(unit=unit, phones=[PHONE]), NOON, settings)
    assert survey.status is SurveyStatus.PLANNED


def test_sensitive_cases_are_never_surveyed(session: Session, settings: Settings, make_case: Callable[..., Case]):
    [survey] = plan_case(session, make_case(is_sensitive=True), NOON, settings)
    assert (survey.status, survey.skip_reason) == (SurveyStatus.SKIPPED, SkipReason.SENSITIVE_CASE)
    assert survey.skipped_at == NOON


def test_excluded_categories_apply_where_the_rule_is_set(
    session: Session,
    settings: Settings,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_policy: Callable[..., DispatchPolicy],
):
    city = make_unit()
    juvenile_unit, other_unit = make_unit(parent=city), make_unit(parent=city)
    make_policy(juvenile_unit, excluded_categories=[CaseCategory.CRIMINAL.value])
    [excluded] = plan_case(session, make_case(unit=juvenile_unit, category=CaseCategory.CRIMINAL), NOON, settings)
    [other_category] = plan_case(session, make_case(unit=juvenile_unit, category=CaseCategory.TRAFFIC), NOON, settings)
    [other_unit_case] = plan_case(session, make_case(unit=other_unit, category=CaseCategory.CRIMINAL), NOON, settings)
    assert excluded.skip_reason == SkipReason.EXCLUDED_CATEGORY
    assert other_category.status is SurveyStatus.PLANNED
    assert other_unit_case.status is SurveyStatus.PLANNED


def test_opted_out_and_unreachable_numbers_are_skipped(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    opt_out(session, "+8613800000021", "sms", NOON - dt.timedelta(days=100))
    suppress_phone(session, "+8613800000022", "twilio", "21614", NOON - dt.timedelta(days=1))
    case = make_case(phones=["+8613800000021", "+8613800000022", "+8613800000023"])
    reasons = [s.skip_reason for s in plan_case(session, case, NOON, settings)]
    assert reasons == [SkipReason.OPTED_OUT, SkipReason.UNREACHABLE_NUMBER, None]


def test_a_case_closed_longer_ago_than_a_survey_lives_is_skipped(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    [survey] = plan_case(session, make_case(closed_at=NOON - dt.timedelta(days=8)), NOON, settings)
    assert survey.skip_reason == SkipReason.CLOSED_TOO_LONG_AGO


@pytest.mark.parametrize(("percent", "low", "high"), [(0, 0, 0), (30, 40, 80), (100, 200, 200)])
def test_sampling_rate_per_unit(
    session: Session,
    settings: Settings,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_policy: Callable[..., DispatchPolicy],
    percent: int,
    low: int,
    high: int,
):
    unit = make_unit()
    make_policy(unit, sampling_percent=percent)
    for _ in range(200):
        make_case(unit=unit, closed_at=NOON - dt.timedelta(hours=3))
    report = plan_due_cases(session, NOON, settings)
    assert low <= report.planned <= high
    assert report.planned + report.reasons[SkipReason.NOT_SAMPLED] == 200


def test_every_survey_that_will_not_be_sent_says_why(
    session: Session, settings: Settings, make_case: Callable[..., Case]
):
    make_case(is_sensitive=True)
    make_case(closed_at=NOON - dt.timedelta(days=9))
    make_case(phones=[PHONE])
    make_case(phones=[PHONE])
    plan_due_cases(session, NOON, settings)
    skipped = list(session.scalars(select(Survey).where(Survey.status == SurveyStatus.SKIPPED)))
    assert len(skipped) == 3
    assert all(s.skip_reason in set(SkipReason) and s.skipped_at == NOON for s in skipped)
