"""One reminder after 24 h if unanswered, outside quiet hours, never to an opted-out number; then expiry."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.answers import AnswerInput, submit_answer
from surveys.dispatch import DispatchReport
from surveys.expiry import expire_surveys
from surveys.models import Case, Channel, DispatchPolicy, SmsKind, SmsMessage, SmsSendStatus, Survey, Unit
from surveys.optouts import opt_out
from surveys.outbox import send_queued_messages
from surveys.reminders import queue_due_reminders
from surveys.sending import Clock
from surveys.settings import Settings
from surveys.skip_reasons import SkipReason
from surveys.sms.console import ConsoleSmsProvider
from surveys.states import SurveyStatus
from tests.surveys.dispatch.conftest import FakeClock, ScriptedProvider, local, messages_of

SENT_AT = local(2026, 11, 20, 14)


@pytest.fixture
def send_survey(
    dispatch: Callable[..., DispatchReport],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    make_unit: Callable[..., Unit],
    make_policy: Callable[..., DispatchPolicy],
) -> Callable[..., Survey]:
    """``send_survey(at=SENT_AT, **policy)``: a survey of a unit with these overrides, sent by dispatch."""

    def factory(at: dt.datetime = SENT_AT, **policy: Any) -> Survey:
        unit = make_unit()
        if policy:
            make_policy(unit, **policy)
        survey = make_survey(
            SurveyStatus.PLANNED, case=make_case(unit=unit), due_at=at, expires_at=at + dt.timedelta(days=7)
        )
        assert dispatch(at).sent == 1
        return survey

    return factory


def test_one_reminder_after_24_hours_then_none(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    send_survey: Callable[..., Survey],
    fake_clock: FakeClock,
):
    survey = send_survey()
    assert survey.remind_at == SENT_AT + dt.timedelta(hours=24)
    assert queue_due_reminders(session, SENT_AT + dt.timedelta(hours=23), settings).queued == 0
    due = SENT_AT + dt.timedelta(hours=24)
    assert queue_due_reminders(session, due, settings).queued == 1
    assert (survey.status, survey.reminded_at) == (SurveyStatus.REMINDED, due)
    session.commit()
    assert send_queued_messages(session_factory, ConsoleSmsProvider(), settings, due, clock=fake_clock).sent == 1
    session.expire_all()
    _invitation, reminder = messages_of(session, survey)
    assert (reminder.kind, reminder.send_status) == (SmsKind.REMINDER, SmsSendStatus.SENT)
    assert reminder.body.startswith("【民意回访】提醒")
    assert survey.token in reminder.body
    assert reminder.body.endswith("回TD退订")
    assert queue_due_reminders(session, due + dt.timedelta(days=2), settings).queued == 0


def test_a_reminder_falling_in_quiet_hours_is_scheduled_for_the_morning(send_survey: Callable[..., Survey]):
    survey = send_survey(local(2026, 11, 20, 20, 30), reminder_after_hours=2)
    assert survey.remind_at == local(2026, 11, 21, 8)  # 22:30 is inside 21:00–08:00


def test_a_late_reminder_tick_at_night_postpones_to_the_morning(
    session: Session, settings: Settings, make_survey: Callable[..., Survey]
):
    survey = make_survey(SurveyStatus.SENT, sent_at=SENT_AT, remind_at=local(2026, 11, 21, 20, 55))
    report = queue_due_reminders(session, local(2026, 11, 21, 23, 10), settings)
    assert (report.postponed, report.queued, survey.status) == (1, 0, SurveyStatus.SENT)
    assert survey.remind_at == local(2026, 11, 22, 8)
    assert queue_due_reminders(session, local(2026, 11, 22, 8), settings).queued == 1


def test_no_reminder_after_an_answer_or_an_opt_out(
    session: Session, settings: Settings, send_survey: Callable[..., Survey]
):
    answered, opted = send_survey(), send_survey()
    submit_answer(session, answered, AnswerInput(overall=5), Channel.WEB, SENT_AT + dt.timedelta(hours=2))
    opt_out(session, opted.contact.phone_e164, "web", SENT_AT + dt.timedelta(hours=3))
    assert queue_due_reminders(session, SENT_AT + dt.timedelta(hours=25), settings).queued == 0
    session.expire_all()
    assert (answered.status, opted.status) == (SurveyStatus.ANSWERED, SurveyStatus.OPTED_OUT)


def test_a_queued_reminder_is_cancelled_if_the_citizen_opts_out_before_it_leaves(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_survey: Callable[..., Survey],
    fake_clock: FakeClock,
):
    survey = make_survey(SurveyStatus.SENT, sent_at=SENT_AT, remind_at=SENT_AT + dt.timedelta(hours=24))
    due = SENT_AT + dt.timedelta(hours=24)
    assert queue_due_reminders(session, due, settings).queued == 1
    opt_out(session, survey.contact.phone_e164, "sms", due)
    session.commit()
    report = send_queued_messages(session_factory, ConsoleSmsProvider(), settings, due, clock=fake_clock)
    assert (report.sent, report.cancelled) == (0, 1)
    session.expire_all()
    [reminder] = messages_of(session, survey)
    assert reminder.send_status is SmsSendStatus.CANCELLED


def test_a_reminder_queued_before_quiet_hours_waits_for_the_morning_in_the_outbox(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_survey: Callable[..., Survey],
    fake_clock: FakeClock,
):
    """The reminder tick checked the hour when it queued; the outbox may run hours later."""
    queued_at = local(2026, 11, 21, 20, 59)
    survey = make_survey(SurveyStatus.SENT, sent_at=queued_at - dt.timedelta(hours=24), remind_at=queued_at)
    assert queue_due_reminders(session, queued_at, settings).queued == 1
    session.commit()
    provider = ConsoleSmsProvider()
    report = send_queued_messages(session_factory, provider, settings, local(2026, 11, 22, 2), clock=fake_clock)
    assert (report.claimed, report.sent, report.postponed) == (0, 0, 1)
    session.expire_all()
    [reminder] = [m for m in messages_of(session, survey) if m.kind is SmsKind.REMINDER]
    assert (reminder.send_status, reminder.due_at) == (SmsSendStatus.QUEUED, local(2026, 11, 22, 8))
    assert send_queued_messages(session_factory, provider, settings, local(2026, 11, 22, 7, 59)).claimed == 0
    assert send_queued_messages(session_factory, provider, settings, local(2026, 11, 22, 8), clock=fake_clock).sent == 1


def test_a_reminder_whose_send_time_falls_in_quiet_hours_is_held_back(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, make_survey: Callable[..., Survey]
):
    """Claimed at 20:59:59 but reached two seconds later (a slow batch): not sent until 08:00."""
    claimed_at = local(2026, 11, 21, 20, 59) + dt.timedelta(seconds=59)
    survey = make_survey(SurveyStatus.SENT, sent_at=claimed_at - dt.timedelta(hours=24), remind_at=claimed_at)
    assert queue_due_reminders(session, claimed_at, settings).queued == 1
    session.commit()
    two_seconds_later = Clock(monotonic=itertools.chain([1000.0], itertools.repeat(1002.0)).__next__)
    provider = ScriptedProvider()
    report = send_queued_messages(session_factory, provider, settings, claimed_at, clock=two_seconds_later)
    assert (report.claimed, report.sent, report.released, provider.sent) == (1, 0, 1, [])
    session.expire_all()
    [reminder] = [m for m in messages_of(session, survey) if m.kind is SmsKind.REMINDER]
    assert (reminder.send_status, reminder.attempts) == (SmsSendStatus.QUEUED, 0)
    assert reminder.due_at == local(2026, 11, 22, 8)


@pytest.mark.parametrize(
    "policy", [{"reminder_after_hours": 0}, {"reminder_after_hours": 48, "expiry_days": 1}], ids=["off", "after expiry"]
)
def test_no_reminder_is_scheduled_when_off_or_after_expiry(send_survey: Callable[..., Survey], policy: dict[str, int]):
    survey = send_survey(**policy)
    assert survey.status is SurveyStatus.SENT
    assert survey.remind_at is None


@pytest.mark.parametrize(("policy", "days"), [({}, 7), ({"expiry_days": 3}, 3)], ids=["default", "unit override"])
def test_expiry_closes_unanswered_surveys_only(
    session: Session,
    send_survey: Callable[..., Survey],
    make_survey: Callable[..., Survey],
    policy: dict[str, int],
    days: int,
):
    unanswered = send_survey(**policy)
    assert unanswered.expires_at == SENT_AT + dt.timedelta(days=days)
    answered = make_survey(SurveyStatus.SENT, sent_at=SENT_AT, expires_at=SENT_AT + dt.timedelta(days=days))
    submit_answer(session, answered, AnswerInput(overall=4), Channel.WEB, SENT_AT + dt.timedelta(days=1))
    assert expire_surveys(session, SENT_AT + dt.timedelta(days=days) - dt.timedelta(seconds=1)) == 0
    assert expire_surveys(session, SENT_AT + dt.timedelta(days=days)) == 1
    session.expire_all()
    assert (unanswered.status, unanswered.expired_at) == (SurveyStatus.EXPIRED, SENT_AT + dt.timedelta(days=days))
    assert answered.status is SurveyStatus.ANSWERED


def test_a_planned_survey_not_sent_in_time_expires_with_its_reason(
    session: Session, make_survey: Callable[..., Survey]
):
    stuck = make_survey(SurveyStatus.PLANNED, due_at=SENT_AT, expires_at=SENT_AT + dt.timedelta(days=7))
    assert expire_surveys(session, SENT_AT + dt.timedelta(days=7)) == 1
    session.expire_all()
    assert (stuck.status, stuck.skip_reason, stuck.sent_at) == (SurveyStatus.EXPIRED, SkipReason.NOT_SENT_IN_TIME, None)
    assert session.scalars(select(SmsMessage).where(SmsMessage.survey_id == stuck.id)).all() == []
