"""SMS replies and delivery reports racing on real connections: nothing lost, nothing undone.

Webhooks arrive concurrently: a citizen sends "1" and "出警太慢了" a second apart, a
provider retries, a delivery receipt lands while the citizen answers on the page. Only
PostgreSQL runs such requests at the same time (SQLite takes one writer at a time).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import surveys.delivery_reports as delivery_reports
from surveys.answers import AnswerInput, submit_answer
from surveys.delivery_reports import apply_delivery_report
from surveys.models import Channel, Response, Survey
from surveys.replies import handle_inbound_sms
from surveys.settings import Settings
from surveys.sms.base import DeliveryReport, DeliveryState, InboundSms
from surveys.states import SurveyStatus
from tests.committed import at_once, committed_survey
from tests.conftest import NOW
from tests.surveys.sms_rows import record_accepted_invitation

ROUNDS = 5


@pytest.fixture
def factory(racing_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    return racing_factory


def sms(factory: sessionmaker[Session], settings: Settings, phone: str, body: str) -> Callable[[], None]:
    """One webhook's work: the reply handled and committed in a session of its own."""

    def handle() -> None:
        with factory() as session:
            handle_inbound_sms(session, InboundSms("twilio", f"SM{secrets.token_hex(16)}", phone, body), NOW, settings)
            session.commit()

    return handle


def answer_of(factory: sessionmaker[Session], survey: Survey) -> Response | None:
    with factory() as session:
        return session.scalars(select(Response).where(Response.survey_id == survey.id)).one_or_none()


def test_two_comments_after_an_answer_are_both_kept(factory: sessionmaker[Session], settings: Settings):
    for _ in range(ROUNDS):
        survey = committed_survey(factory, SurveyStatus.DELIVERED)
        phone = survey.contact.phone_e164
        sms(factory, settings, phone, "5")()
        at_once(sms(factory, settings, phone, "第一条补充"), sms(factory, settings, phone, "第二条补充"))
        response = answer_of(factory, survey)
        assert response is not None
        assert sorted(response.comment.split("\n")) == ["第一条补充", "第二条补充"]


def test_a_comment_and_a_rating_sent_together_make_one_answer_with_the_comment(
    factory: sessionmaker[Session], settings: Settings
):
    for _ in range(ROUNDS):
        survey = committed_survey(factory, SurveyStatus.DELIVERED)
        phone = survey.contact.phone_e164
        at_once(sms(factory, settings, phone, "出警太慢了"), sms(factory, settings, phone, "1"))
        response = answer_of(factory, survey)
        assert response is not None
        assert (response.overall, response.comment) == (1, "出警太慢了")


def test_a_delivery_receipt_during_an_answer_does_not_undo_it(
    factory: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    survey = committed_survey(factory, SurveyStatus.SENT)
    with factory.begin() as session:
        record_accepted_invitation(session, session.get_one(Survey, survey.id), "twilio", "SM" + "b" * 32)
    receipt_read, answered = threading.Event(), threading.Event()
    apply_to_survey = delivery_reports._apply_to_survey

    def after_the_answer(*args: Any) -> None:
        receipt_read.set()  # the receipt's message (and, before the fix, its survey) is read
        answered.wait(timeout=10)
        apply_to_survey(*args)

    monkeypatch.setattr(delivery_reports, "_apply_to_survey", after_the_answer)

    def receipt() -> None:
        with factory() as session:
            delivered = DeliveryReport("twilio", "SM" + "b" * 32, DeliveryState.DELIVERED, "delivered", None, None)
            assert apply_delivery_report(session, delivered, NOW)
            session.commit()

    def citizen_answers() -> None:
        receipt_read.wait(timeout=10)
        with factory() as session:
            submit_answer(session, session.get_one(Survey, survey.id), AnswerInput(overall=1), Channel.WEB, NOW)
            session.commit()
        answered.set()

    at_once(receipt, citizen_answers)
    with factory() as session:
        stored = session.get_one(Survey, survey.id)
        assert (stored.status, stored.answered_at, stored.delivered_at) == (SurveyStatus.ANSWERED, NOW, NOW)
