"""The outbox: queued messages go out after the commit, at most once, with retries for transient errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.models import PhoneSuppression, SmsKind, SmsMessage, SmsSendStatus
from surveys.outbox import OutboxReport, mark_lost_sends, queue_message, send_queued_messages
from surveys.sending import CLAIM_LEASE
from surveys.settings import Settings
from surveys.sms.base import FailureKind, SmsOutcomeUnknownError, SmsSendError
from tests.surveys.dispatch.conftest import FakeClock, ScriptedProvider

PHONE = "+8613900000002"


@pytest.fixture
def queued(session: Session, now: dt.datetime) -> SmsMessage:
    row = queue_message(
        session,
        kind=SmsKind.OPT_OUT_CONFIRMATION,
        phone_e164=PHONE,
        body="【民意回访】您已退订",
        provider="scripted",
        now=now,
    )
    session.commit()
    return row


@pytest.fixture
def run_outbox(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    scripted: ScriptedProvider,
    fake_clock: FakeClock,
) -> Callable[[dt.datetime], OutboxReport]:
    def run(at: dt.datetime) -> OutboxReport:
        report = send_queued_messages(session_factory, scripted, settings, at, clock=fake_clock)
        session.expire_all()
        return report

    return run


def test_a_queued_confirmation_is_sent_once(
    queued: SmsMessage, run_outbox: Callable[[dt.datetime], OutboxReport], scripted: ScriptedProvider, now: dt.datetime
):
    assert run_outbox(now).sent == 1
    assert (queued.send_status, queued.attempts, queued.provider_message_id) == (
        SmsSendStatus.SENT,
        1,
        "SM" + "0" * 31 + "1",
    )
    assert [m.kind for m in scripted.sent] == [SmsKind.OPT_OUT_CONFIRMATION]
    assert run_outbox(now + dt.timedelta(minutes=5)).claimed == 0


def test_a_transient_error_is_retried_later(
    queued: SmsMessage, run_outbox: Callable[[dt.datetime], OutboxReport], scripted: ScriptedProvider, now: dt.datetime
):
    scripted.script = [SmsSendError("20500", "Internal Server Error", FailureKind.TRANSIENT)]
    assert run_outbox(now).retried == 1
    assert (queued.send_status, queued.due_at, queued.error_code) == (
        SmsSendStatus.QUEUED,
        now + dt.timedelta(minutes=1),
        "20500",
    )
    assert run_outbox(now).claimed == 0
    assert run_outbox(now + dt.timedelta(minutes=1)).sent == 1


def test_an_unreachable_number_fails_and_is_suppressed(
    session: Session,
    queued: SmsMessage,
    run_outbox: Callable[[dt.datetime], OutboxReport],
    scripted: ScriptedProvider,
    now: dt.datetime,
):
    scripted.script = [SmsSendError("21614", "'To' number is not a valid mobile number", FailureKind.UNREACHABLE)]
    assert run_outbox(now).failed == 1
    assert queued.send_status is SmsSendStatus.FAILED
    assert session.scalars(select(PhoneSuppression.phone_e164)).all() == [PHONE]


def test_an_unknown_outcome_is_never_resent(
    queued: SmsMessage, run_outbox: Callable[[dt.datetime], OutboxReport], scripted: ScriptedProvider, now: dt.datetime
):
    scripted.script = [SmsOutcomeUnknownError("ReadTimeout")]
    assert run_outbox(now).unknown == 1
    assert queued.send_status is SmsSendStatus.UNKNOWN
    assert run_outbox(now + dt.timedelta(hours=1)).claimed == 0


def test_a_claim_lost_in_a_crash_becomes_unknown_after_its_lease(
    session: Session, queued: SmsMessage, now: dt.datetime
):
    queued.send_status, queued.lease_expires_at = SmsSendStatus.SENDING, now + CLAIM_LEASE
    session.flush()
    assert mark_lost_sends(session, now + CLAIM_LEASE) == 0
    assert mark_lost_sends(session, now + CLAIM_LEASE + dt.timedelta(seconds=1)) == 1
    session.expire_all()
    assert (queued.send_status, queued.error_code) == (SmsSendStatus.UNKNOWN, "lease_expired")
