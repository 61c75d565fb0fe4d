"""Delivery reports move a message forward only; a replay or a late status changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.delivery_reports import apply_delivery_report
from surveys.models import PhoneSuppression, SmsMessage, SmsSendStatus, Survey
from surveys.sms.base import DeliveryReport, DeliveryState, FailureKind
from surveys.states import SurveyStatus
from tests.surveys.sms_rows import record_accepted_invitation

SID = "SM" + "a" * 32


@pytest.fixture
def sent(session: Session, make_survey: Callable[..., Survey], now: dt.datetime) -> Callable[..., Survey]:
    """``sent(status=SENT)``: a survey with its invitation recorded as accepted by Twilio."""

    def factory(status: SurveyStatus = SurveyStatus.SENT) -> Survey:
        survey = make_survey(status)
        record_accepted_invitation(session, survey, "twilio", SID)
        return survey

    return factory


def report(status: str, state: DeliveryState, code: str | None = None, kind: FailureKind | None = None):  # type: ignore[no-untyped-def]
    return DeliveryReport("twilio", SID, state, status, code, "carrier says no" if code else None, kind)


def apply(session: Session, delivery: DeliveryReport, now: dt.datetime) -> bool:
    """Apply ``delivery`` as a webhook would; the test then reads what the next request would."""
    changed = apply_delivery_report(session, delivery, now)
    session.expire_all()  # the survey moves in one UPDATE, not through the loaded object
    return changed


def message(session: Session) -> SmsMessage:
    return session.scalars(select(SmsMessage).where(SmsMessage.provider_message_id == SID)).one()


def test_delivered_moves_the_survey_and_a_replay_changes_nothing(
    session: Session, sent: Callable[..., Survey], now: dt.datetime
):
    survey = sent()
    assert apply(session, report("sent", DeliveryState.IN_FLIGHT), now)
    assert apply(session, report("delivered", DeliveryState.DELIVERED), now)
    assert (survey.status, survey.delivered_at) == (SurveyStatus.DELIVERED, now)
    assert (message(session).send_status, message(session).provider_status) == (SmsSendStatus.DELIVERED, "delivered")
    later = now + dt.timedelta(minutes=5)
    assert not apply(session, report("delivered", DeliveryState.DELIVERED), later)
    assert not apply(session, report("sent", DeliveryState.IN_FLIGHT), later)
    assert (survey.delivered_at, message(session).provider_status) == (now, "delivered")


def test_a_transient_carrier_failure_fails_the_survey_without_suppressing_the_number(
    session: Session, sent: Callable[..., Survey], now: dt.datetime
):
    survey = sent()
    assert apply(session, report("undelivered", DeliveryState.FAILED, "30003"), now)
    assert (survey.status, survey.last_error_code, survey.failed_at) == (SurveyStatus.FAILED, "30003", now)
    assert message(session).send_status is SmsSendStatus.UNDELIVERED
    assert session.scalars(select(PhoneSuppression)).all() == []


def test_an_unknown_handset_suppresses_the_number(session: Session, sent: Callable[..., Survey], now: dt.datetime):
    survey = sent()
    apply(session, report("undelivered", DeliveryState.FAILED, "30005", FailureKind.UNREACHABLE), now)
    suppression = session.scalars(select(PhoneSuppression)).one()
    assert (suppression.phone_e164, suppression.error_code) == (survey.contact.phone_e164, "30005")


def test_a_late_delivery_after_the_citizen_opened_only_records_the_time(
    session: Session, sent: Callable[..., Survey], now: dt.datetime
):
    survey = sent(SurveyStatus.OPENED)
    assert apply(session, report("delivered", DeliveryState.DELIVERED), now)
    assert (survey.status, survey.delivered_at) == (SurveyStatus.OPENED, now)


def test_a_failure_after_the_citizen_answered_does_not_undo_the_answer(
    session: Session, sent: Callable[..., Survey], now: dt.datetime
):
    survey = sent(SurveyStatus.ANSWERED)
    apply(session, report("failed", DeliveryState.FAILED, "30008"), now)
    assert survey.status is SurveyStatus.ANSWERED


def test_a_report_for_a_message_we_do_not_know_is_ignored(session: Session, now: dt.datetime):
    assert not apply(session, report("delivered", DeliveryState.DELIVERED), now)
