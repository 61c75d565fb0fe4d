"""SMS replies: a rating answers the newest open survey, TD opts out once, text becomes a comment."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import analyze_pending_responses
from surveys.answers import AnswerInput, submit_answer
from surveys.models import (
    Case,
    Channel,
    OptOut,
    ReplyOutcome,
    Response,
    SmsDirection,
    SmsKind,
    SmsMessage,
    SmsSendStatus,
    Survey,
)
from surveys.replies import handle_inbound_sms
from surveys.retention import purge_contacts
from surveys.settings import Settings
from surveys.sms.base import InboundSms
from surveys.states import SurveyStatus

PHONE = "+8613900000001"
_ids = itertools.count(1)


@pytest.fixture
def reply(session: Session, settings: Settings, now: dt.datetime) -> Callable[..., ReplyOutcome]:
    """``reply(body, phone=PHONE, message_id=…, at=now)``: one inbound SMS through the service."""

    def send(body: str, phone: str = PHONE, message_id: str | None = None, at: dt.datetime | None = None):  # type: ignore[no-untyped-def]
        inbound = InboundSms("twilio", message_id or f"SM{next(_ids):032d}", phone, body)
        return handle_inbound_sms(session, inbound, at or now, settings)

    return send


@pytest.fixture
def open_survey(make_survey: Callable[..., Survey], make_case: Callable[..., Case]) -> Survey:
    return make_survey(SurveyStatus.DELIVERED, case=make_case(phones=[PHONE]))


def inbound_rows(session: Session) -> list[SmsMessage]:
    stmt = select(SmsMessage).where(SmsMessage.direction == SmsDirection.INBOUND).order_by(SmsMessage.id)
    return list(session.scalars(stmt))


@pytest.mark.parametrize(("body", "overall"), [("5", 5), ("１", 1), ("三", 3), ("非常不满意", 1), ("满意", 4)])
def test_a_rating_answers_the_open_survey_through_the_sms_channel(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey, now: dt.datetime, body: str, overall: int
):
    assert reply(body) is ReplyOutcome.RATING
    assert open_survey.status is SurveyStatus.ANSWERED
    assert open_survey.answered_at == now
    response = open_survey.response
    assert response is not None
    assert (response.overall, response.channel, response.comment) == (overall, Channel.SMS, "")
    [row] = inbound_rows(session)
    assert (row.kind, row.reply_outcome, row.survey_id, row.body) == (
        SmsKind.REPLY,
        ReplyOutcome.RATING,
        open_survey.id,
        body,
    )


def test_the_newest_open_survey_gets_the_rating(
    session: Session,
    reply: Callable[..., ReplyOutcome],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    now: dt.datetime,
):
    older = make_survey(SurveyStatus.SENT, case=make_case(phones=[PHONE]), sent_at=now - dt.timedelta(days=3))
    newer = make_survey(SurveyStatus.OPENED, case=make_case(phones=[PHONE]), sent_at=now - dt.timedelta(hours=1))
    assert reply("4") is ReplyOutcome.RATING
    assert (older.status, newer.status) == (SurveyStatus.SENT, SurveyStatus.ANSWERED)


def test_a_rating_with_text_keeps_the_text_as_comment(reply: Callable[..., ReplyOutcome], open_survey: Survey):
    assert reply("2 等了一个多小时才出警") is ReplyOutcome.RATING
    assert open_survey.response is not None
    assert (open_survey.response.overall, open_survey.response.comment) == (2, "等了一个多小时才出警")


def test_a_comment_before_the_rating_joins_it(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey
):
    assert reply("民警态度不好") is ReplyOutcome.COMMENT_PENDING
    assert open_survey.response is None
    assert reply("1") is ReplyOutcome.RATING
    assert open_survey.response is not None
    assert open_survey.response.comment == "民警态度不好"
    assert [r.reply_outcome for r in inbound_rows(session)] == [ReplyOutcome.COMMENT_ADDED, ReplyOutcome.RATING]


def test_a_comment_after_the_answer_is_added_and_analysed_again(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey
):
    assert reply("5") is ReplyOutcome.RATING
    response = open_survey.response
    assert response is not None
    response.is_analyzed = True
    assert reply("其实等了很久") is ReplyOutcome.COMMENT_ADDED
    assert response.comment == "其实等了很久"
    assert response.is_analyzed is False
    assert reply("下次快点") is ReplyOutcome.COMMENT_ADDED
    assert response.comment == "其实等了很久\n下次快点"


LONG_COMMENT = "出警太慢，" * 100  # the web form's 500 characters


def test_a_follow_up_to_a_full_comment_is_kept_and_screened(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey, now: dt.datetime
):
    """It used to be cut off at 500 characters, unread by anyone, yet reported as added."""
    response = submit_answer(session, open_survey, AnswerInput(overall=2, comment=LONG_COMMENT), Channel.WEB, now)
    assert reply("他说要杀了我全家") is ReplyOutcome.COMMENT_ADDED
    assert response.comment == f"{LONG_COMMENT}\n他说要杀了我全家"
    assert analyze_pending_responses(session, get_default_analyzer(), now) == 1
    assert response.analyses[-1].is_urgent


def test_comments_sent_before_a_rating_are_kept_whole(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey
):
    assert reply(LONG_COMMENT) is ReplyOutcome.COMMENT_PENDING
    assert reply("1 我不想活了") is ReplyOutcome.RATING
    assert open_survey.response is not None
    assert open_survey.response.comment == f"{LONG_COMMENT.strip()}\n我不想活了"


def test_a_second_rating_changes_nothing(session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey):
    assert reply("5") is ReplyOutcome.RATING
    assert reply("1") is ReplyOutcome.ALREADY_ANSWERED
    assert open_survey.response is not None
    assert open_survey.response.overall == 5


def test_td_opts_out_of_everything_and_is_confirmed_once(
    session: Session,
    reply: Callable[..., ReplyOutcome],
    open_survey: Survey,
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
):
    planned = make_survey(SurveyStatus.PLANNED, case=make_case(phones=[PHONE]))
    assert reply("TD") is ReplyOutcome.OPT_OUT
    assert (open_survey.status, planned.status) == (SurveyStatus.OPTED_OUT, SurveyStatus.OPTED_OUT)
    assert session.scalars(select(OptOut.source).where(OptOut.phone_e164 == PHONE)).one() == "sms"
    assert reply("退订") is ReplyOutcome.REPEATED_OPT_OUT
    confirmations = session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.OPT_OUT_CONFIRMATION, SmsMessage.phone_e164 == PHONE)
    ).all()
    assert len(confirmations) == 1
    assert confirmations[0].send_status is SmsSendStatus.QUEUED
    assert confirmations[0].body == "【民意回访】您已退订，今后不再收到本平台的回访短信。"


def test_a_replayed_webhook_changes_nothing(session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey):
    assert reply("民警很耐心", message_id="SMreplayed") is ReplyOutcome.COMMENT_PENDING
    assert reply("民警很耐心", message_id="SMreplayed") is ReplyOutcome.COMMENT_PENDING
    assert reply("1", message_id="SMrating") is ReplyOutcome.RATING
    assert reply("1", message_id="SMrating") is ReplyOutcome.RATING
    assert len(inbound_rows(session)) == 2
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    assert open_survey.response is not None
    assert open_survey.response.comment == "民警很耐心"


def test_an_unknown_phone_is_stored_and_ignored(session: Session, reply: Callable[..., ReplyOutcome]):
    assert reply("1", phone="+8613700000009") is ReplyOutcome.UNKNOWN_PHONE
    [row] = inbound_rows(session)
    assert (row.phone_e164, row.survey_id, row.body) == ("+8613700000009", None, "1")
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_known_phone_without_an_open_survey(
    reply: Callable[..., ReplyOutcome],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    now: dt.datetime,
):
    make_survey(SurveyStatus.SENT, case=make_case(phones=[PHONE]), expires_at=now - dt.timedelta(minutes=1))
    assert reply("5") is ReplyOutcome.NO_SURVEY
    assert reply("好的") is ReplyOutcome.NO_SURVEY
    assert reply("  ") is ReplyOutcome.EMPTY


def test_a_rating_after_a_web_answer_is_already_answered(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey, now: dt.datetime
):
    submit_answer(session, open_survey, AnswerInput(overall=4), Channel.WEB, now)
    assert reply("1") is ReplyOutcome.ALREADY_ANSWERED


def test_a_repeated_rating_never_answers_an_older_survey(
    session: Session,
    reply: Callable[..., ReplyOutcome],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    now: dt.datetime,
):
    # The citizen is never told a reply arrived, so a second "5" is likely; it is about
    # the last message they got, not the survey of a case from days ago.
    older = make_survey(SurveyStatus.DELIVERED, case=make_case(phones=[PHONE]), sent_at=now - dt.timedelta(days=3))
    newer = make_survey(SurveyStatus.DELIVERED, case=make_case(phones=[PHONE]), sent_at=now - dt.timedelta(hours=1))
    assert reply("5") is ReplyOutcome.RATING
    assert reply("5") is ReplyOutcome.ALREADY_ANSWERED
    assert (older.status, newer.status) == (SurveyStatus.DELIVERED, SurveyStatus.ANSWERED)
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_td_from_a_purged_contact_still_opts_the_number_out(
    session: Session,
    reply: Callable[..., ReplyOutcome],
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    now: dt.datetime,
):
    make_survey(SurveyStatus.EXPIRED, case=make_case(phones=[PHONE], closed_at=now - dt.timedelta(days=400)))
    assert purge_contacts(session, now, retention_days=180) == 1
    assert reply("TD") is ReplyOutcome.OPT_OUT
    assert session.scalar(select(func.count()).select_from(OptOut).where(OptOut.phone_e164 == PHONE)) == 1


@pytest.mark.parametrize(
    ("body", "stored"), [("5 好\x00", "5 好"), ("\ud83d满意", "满意"), ("太慢了\r\n真的", "太慢了\n真的")]
)
def test_characters_that_cannot_be_stored_are_dropped(
    session: Session, reply: Callable[..., ReplyOutcome], open_survey: Survey, body: str, stored: str
):
    reply(body)
    session.flush()
    [row] = inbound_rows(session)
    assert row.body == stored
