"""Alibaba Cloud's pushes (SmsReport, SmsUp): accepted only with the push token; replays are harmless."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Response, SmsDirection, SmsMessage, SmsSendStatus, Survey
from surveys.states import SurveyStatus
from tests.webapp.sms_webhooks.conftest import PUSH_TOKEN

BIZ_ID = "900000^0"


def report(success: bool, code: str) -> list[dict[str, object]]:
    return [
        {
            "phone_number": "13812345678",
            "send_time": "2026-11-20 14:00:00",
            "report_time": "2026-11-20 14:00:05",
            "success": success,
            "err_code": code,
            "err_msg": "用户接收成功" if success else "失败",
            "sms_size": "2",
            "biz_id": BIZ_ID,
            "out_id": "survey-1",
        }
    ]


def reply(phone: str, content: str, sequence_id: int = 1234567890) -> list[dict[str, object]]:
    national = phone.removeprefix("+86")
    return [
        {
            "phone_number": national,
            "send_time": "2026-11-20 14:05:00",
            "content": content,
            "sign_name": "民意回访",
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
    ]


def test_a_delivery_receipt_with_the_token_is_applied(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey("alibaba", BIZ_ID)
    response = client.post(f"/sms/alibaba/report?token={PUSH_TOKEN}", json=report(True, "DELIVERED"))
    assert (response.status_code, response.get_json()) == (200, {"code": 0, "msg": "接收成功"})
    session.expire_all()
    assert survey.status is SurveyStatus.DELIVERED
    message = session.scalars(select(SmsMessage).where(SmsMessage.provider_message_id == BIZ_ID)).one()
    assert message.send_status is SmsSendStatus.DELIVERED
    again = client.post(f"/sms/alibaba/report?token={PUSH_TOKEN}", json=report(False, "MK:0001"))
    assert again.status_code == 200
    session.expire_all()
    assert survey.status is SurveyStatus.DELIVERED  # the first final word stands


@pytest.mark.parametrize("query", ["", "?token=", "?token=guess"])
def test_a_push_without_the_token_is_refused(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey], query: str
):
    survey = sent_survey("alibaba", BIZ_ID)
    assert client.post(f"/sms/alibaba/report{query}", json=report(True, "DELIVERED")).status_code == 403
    assert client.post(f"/sms/alibaba/inbound{query}", json=reply(survey.contact.phone_e164, "1")).status_code == 403
    session.expire_all()
    assert survey.status is SurveyStatus.SENT


def test_a_malformed_push_is_a_bad_request(client: FlaskClient):
    assert client.post(f"/sms/alibaba/report?token={PUSH_TOKEN}", data="not json").status_code == 400
    assert client.post(f"/sms/alibaba/inbound?token={PUSH_TOKEN}", json={"a": 1}).status_code == 400


def test_an_uplink_reply_answers_the_survey_once(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey("alibaba", BIZ_ID)
    payload = reply(survey.contact.phone_e164, "非常满意")
    for _ in range(2):  # Alibaba may push the same message again
        response = client.post(f"/sms/alibaba/inbound?token={PUSH_TOKEN}", json=payload)
        assert (response.status_code, response.get_json()["code"]) == (200, 0)
    session.expire_all()
    assert survey.status is SurveyStatus.ANSWERED
    assert survey.response is not None
    assert survey.response.overall == 5
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    inbound = session.scalar(
        select(func.count()).select_from(SmsMessage).where(SmsMessage.direction == SmsDirection.INBOUND)
    )
    assert inbound == 1
