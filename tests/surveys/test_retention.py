"""Retention purge: old numbers forgotten everywhere; recent and open ones (surveys, tickets) and opt-outs kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.errors import ValidationError
from surveys.models import (
    Case,
    Channel,
    Contact,
    OptOut,
    PhoneSuppression,
    SmsDirection,
    SmsMessage,
    SmsSendStatus,
    Survey,
)
from surveys.models.sms import SmsKind
from surveys.replies import handle_inbound_sms
from surveys.retention import purge_contacts, purge_suppressions
from surveys.settings import Settings
from surveys.sms.base import InboundSms
from surveys.states import SurveyStatus, TicketStatus
from surveys.triage import open_ticket_if_needed

EXPIRED = SurveyStatus.EXPIRED


def test_purge_forgets_only_old_finished_contacts(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
):
    old = make_case(phones=["+8613800000001"], closed_at=now - dt.timedelta(days=400))
    make_survey(case=old, status=SurveyStatus.EXPIRED)
    recent = make_case(phones=["+8613800000002"], closed_at=now - dt.timedelta(days=10))
    old_but_open = make_case(phones=["+8613800000003"], closed_at=now - dt.timedelta(days=400))
    make_survey(case=old_but_open, status=SurveyStatus.SENT)
    session.add(
        SmsMessage(
            direction=SmsDirection.INBOUND,
            kind=SmsKind.REPLY,
            phone_e164="+8613800000001",
            body="5",
            provider="console",
        )
    )
    session.add(OptOut(phone_e164="+8613800000001", source="sms"))
    session.flush()

    assert purge_contacts(session, now, retention_days=365) == 1

    def phone(case: Case) -> str:
        return session.get_one(Contact, case.participants[0].contact_id).phone_e164

    assert phone(old).startswith("purged-")
    assert phone(recent) == "+8613800000002"
    assert phone(old_but_open) == "+8613800000003"
    assert session.scalars(select(SmsMessage.phone_e164)).one().startswith("purged-")
    assert session.scalars(select(OptOut.phone_e164)).one() == "+8613800000001"
    assert purge_contacts(session, now, retention_days=365) == 0  # idempotent


def test_old_suppressions_are_deleted(session: Session, now: dt.datetime):
    session.add(
        PhoneSuppression(
            phone_e164="+8613800000009", provider="twilio", error_code="21614", created_at=now - dt.timedelta(days=400)
        )
    )
    session.add(
        PhoneSuppression(
            phone_e164="+8613800000008", provider="twilio", error_code="21614", created_at=now - dt.timedelta(days=10)
        )
    )
    session.flush()
    assert purge_suppressions(session, now, retention_days=365) == 1
    assert session.scalars(select(PhoneSuppression.phone_e164)).all() == ["+8613800000008"]


def _inbound(session: Session, settings: Settings, phone: str, at: dt.datetime, body: str = "你好") -> None:
    message_id = f"m{phone[-4:]}{at:%Y%m%d}"
    handle_inbound_sms(session, InboundSms("console", message_id, phone, body), at, settings)
    session.flush()


def _sms_phones(session: Session) -> list[str]:
    return list(session.scalars(select(SmsMessage.phone_e164).order_by(SmsMessage.id)))


@pytest.mark.parametrize(
    ("status", "is_kept"),
    [
        (TicketStatus.NEW, True),
        (TicketStatus.ESCALATED, True),
        (TicketStatus.IN_PROGRESS, True),
        (TicketStatus.CLOSED, False),
    ],
)
def test_a_contact_with_an_open_ticket_keeps_its_number_for_the_call_back(
    session: Session,
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    now: dt.datetime,
    status: TicketStatus,
    is_kept: bool,
):
    survey = make_survey(case=make_case(phones=["+8613800000088"], closed_at=now - dt.timedelta(days=400)))
    answered_at = now - dt.timedelta(days=380)
    response = submit_answer(session, survey, AnswerInput(overall=1, comment="态度很差"), Channel.WEB, answered_at)
    analysis = store_analysis(session, response, get_default_analyzer().analyze("态度很差"), answered_at)
    ticket = open_ticket_if_needed(session, response, analysis, answered_at)
    assert ticket is not None
    ticket.status = status
    session.flush()

    assert purge_contacts(session, now, retention_days=365) == (0 if is_kept else 1)

    assert (session.get_one(Contact, survey.contact_id).phone_e164 == "+8613800000088") is is_kept


def test_numbers_without_a_contact_are_forgotten_once_past_the_cutoff(
    session: Session, settings: Settings, make_case: Callable[..., Case], now: dt.datetime
):
    make_case(phones=["+8613800000021"], closed_at=now - dt.timedelta(days=10))  # a live contact
    _inbound(session, settings, "+8613900000077", now - dt.timedelta(days=800))  # never texted by us
    _inbound(session, settings, "+8613800000021", now - dt.timedelta(days=400))  # old, but its contact is live
    _inbound(session, settings, "+8613900000078", now - dt.timedelta(days=100))  # within the period

    purge_contacts(session, now, retention_days=365)

    first, live, recent = _sms_phones(session)
    assert first.startswith("purged-sms")
    assert (live, recent) == ("+8613800000021", "+8613900000078")


def test_a_reply_that_arrives_after_the_purge_is_forgotten_a_period_later(
    session: Session,
    settings: Settings,
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    make_survey(case=make_case(phones=["+8613800000055"], closed_at=now - dt.timedelta(days=400)), status=EXPIRED)
    assert purge_contacts(session, now, retention_days=365) == 1
    _inbound(session, settings, "+8613800000055", now, body="好的")

    purge_contacts(session, now + dt.timedelta(days=30), retention_days=365)
    assert _sms_phones(session) == ["+8613800000055"]  # not yet past the period
    purge_contacts(session, now + dt.timedelta(days=400), retention_days=365)

    assert not any(phone.startswith("+86") for phone in _sms_phones(session))


def test_provider_error_texts_of_purged_rows_are_masked(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
):
    error = "Unable to create record: The 'To' number +8613800000066 is not a valid phone number."
    survey = make_survey(
        case=make_case(phones=["+8613800000066"], closed_at=now - dt.timedelta(days=400)),
        status=SurveyStatus.FAILED,
        last_error_code="21211",
        last_error_message=error,
    )
    session.add(
        SmsMessage(
            direction=SmsDirection.OUTBOUND,
            kind=SmsKind.SURVEY,
            survey_id=survey.id,
            phone_e164="+8613800000066",
            body="请评价",
            provider="twilio",
            error_code="21211",
            error_message=error.replace("+8613800000066", "138 0000 0066"),
        )
    )
    session.flush()

    assert purge_contacts(session, now, retention_days=365) == 1

    session.expire_all()
    message = session.scalars(select(SmsMessage)).one()
    masked = "Unable to create record: The 'To' number [号码已清除] is not a valid phone number."
    assert (survey.last_error_message, survey.last_error_code) == (masked, "21211")
    assert (message.error_message, message.error_code) == (masked, "21211")


def test_a_message_still_queued_for_a_forgotten_number_is_cancelled(
    session: Session, now: dt.datetime, make_case: Callable[..., Case], make_survey: Callable[..., Survey]
):
    make_survey(case=make_case(phones=["+8613800000044"], closed_at=now - dt.timedelta(days=400)), status=EXPIRED)
    session.add(
        SmsMessage(
            direction=SmsDirection.OUTBOUND,
            kind=SmsKind.OPT_OUT_CONFIRMATION,
            phone_e164="+8613800000044",
            body="您已退订",
            provider="console",
            send_status=SmsSendStatus.QUEUED,
            due_at=now,
        )
    )
    session.flush()

    purge_contacts(session, now, retention_days=365)

    message = session.scalars(select(SmsMessage)).one()
    assert message.phone_e164.startswith("purged-")
    assert message.send_status is SmsSendStatus.CANCELLED


@pytest.mark.parametrize("days", [29, 36_501, 100_000_000])
def test_retention_outside_its_bounds_is_refused(session: Session, now: dt.datetime, days: int):
    with pytest.raises(ValidationError):
        purge_contacts(session, now, retention_days=days)
