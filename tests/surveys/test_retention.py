"""Retention purge: old numbers are forgotten, recent and open ones kept, opt-outs kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Case, Contact, OptOut, PhoneSuppression, SmsDirection, SmsMessage, Survey
from surveys.models.sms import SmsKind
from surveys.retention import purge_contacts, purge_suppressions
from surveys.states import SurveyStatus


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
