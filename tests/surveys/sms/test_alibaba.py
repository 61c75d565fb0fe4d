"""Alibaba Cloud SMS through its official SDK against a local fake of the documented API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from surveys.dispatch import dispatch_due_surveys
from surveys.dispatch_settings import AlibabaSettings, load_dispatch_settings
from surveys.errors import ConfigurationError
from surveys.models import SmsKind, Survey
from surveys.settings import Settings
from surveys.sms.alibaba import AlibabaSmsProvider
from surveys.sms.alibaba_push import parse_replies, parse_reports
from surveys.sms.base import DeliveryState, FailureKind, OutgoingSms, SmsOutcomeUnknownError, SmsSendError
from surveys.states import SurveyStatus
from tests.surveys.sms.alibaba_fake import AlibabaFake, AlibabaFakeServer

TEMPLATES = {SmsKind.SURVEY: "SMS_0001", SmsKind.REMINDER: "SMS_0002", SmsKind.OPT_OUT_CONFIRMATION: "SMS_0003"}
PARAMS = {"date": "11月20日", "unit": "府山派出所", "matter": "110警情", "token": "AbCdEfGhIjKl"}
MESSAGE = OutgoingSms("+8613812345678", "【民意回访】…", SmsKind.SURVEY, PARAMS, reference="survey-7")


@pytest.fixture
def fake() -> Iterator[AlibabaFake]:
    fake = AlibabaFake()
    with AlibabaFakeServer(fake):
        yield fake


def make_provider(fake: AlibabaFake, secret: str | None = None, timeout: float = 5.0) -> AlibabaSmsProvider:
    return AlibabaSmsProvider(
        fake.access_key_id,
        secret or fake.access_key_secret,
        "民意回访",
        TEMPLATES,
        endpoint=fake.url.removeprefix("http://"),
        protocol="http",
        timeout_seconds=timeout,
    )


def test_send_uses_sign_name_template_and_parameters(fake: AlibabaFake):
    result = make_provider(fake).send(MESSAGE)
    assert result.provider_message_id == "900000^0"
    [request] = fake.requests
    assert request["PhoneNumbers"] == "13812345678"  # mainland numbers without +86
    assert (request["SignName"], request["TemplateCode"], request["OutId"]) == ("民意回访", "SMS_0001", "survey-7")
    assert json.loads(request["TemplateParam"]) == PARAMS


def test_each_kind_has_its_template(fake: AlibabaFake):
    make_provider(fake).send(OutgoingSms("+8613812345678", "【民意回访】您已退订", SmsKind.OPT_OUT_CONFIRMATION))
    [request] = fake.requests
    assert request["TemplateCode"] == "SMS_0003"
    assert "TemplateParam" not in request


def test_a_wrong_secret_is_rejected_by_the_signature_check(fake: AlibabaFake):
    with pytest.raises(SmsSendError) as caught:
        make_provider(fake, secret="not-the-secret").send(MESSAGE)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.kind is FailureKind.TRANSIENT  # fixable credentials must not fail the queue
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (200, "isv.MOBILE_NUMBER_ILLEGAL", FailureKind.UNREACHABLE),
        (200, "isv.BUSINESS_LIMIT_CONTROL", FailureKind.TRANSIENT),
        (200, "isp.SYSTEM_ERROR", FailureKind.TRANSIENT),
        (200, "isv.AMOUNT_NOT_ENOUGH", FailureKind.TRANSIENT),
        (200, "isv.SMS_TEMPLATE_ILLEGAL", FailureKind.PERMANENT),
        (400, "Throttling.User", FailureKind.TRANSIENT),
        (503, "ServiceUnavailable", FailureKind.TRANSIENT),
        (500, "InternalError", FailureKind.TRANSIENT),
    ],
)
def test_errors_are_classified(fake: AlibabaFake, status: int, code: str, kind: FailureKind):
    fake.fail_next(code, http_status=status, message="scripted")
    with pytest.raises(SmsSendError) as caught:
        make_provider(fake).send(MESSAGE)
    assert (caught.value.code, caught.value.kind) == (code, kind)


def test_the_fake_itself_refuses_a_malformed_number(fake: AlibabaFake):
    with pytest.raises(SmsSendError) as caught:
        make_provider(fake).send(OutgoingSms("+86123", "x", SmsKind.SURVEY, PARAMS))
    assert (caught.value.code, caught.value.kind) == ("isv.MOBILE_NUMBER_ILLEGAL", FailureKind.UNREACHABLE)


def test_no_answer_leaves_the_outcome_unknown(fake: AlibabaFake):
    fake.hang_next()
    with pytest.raises(SmsOutcomeUnknownError):
        make_provider(fake, timeout=0.3).send(MESSAGE)
    assert len(fake.requests) == 1  # sent once, never retried by the SDK


def test_a_refused_connection_is_transient(closed_port_url: str):
    provider = AlibabaSmsProvider(
        "k", "s", "民意回访", TEMPLATES, endpoint=closed_port_url.removeprefix("http://"), protocol="http"
    )
    with pytest.raises(SmsSendError) as caught:
        provider.send(MESSAGE)
    assert (caught.value.code, caught.value.kind) == ("network", FailureKind.TRANSIENT)


def test_dispatch_through_alibaba(
    fake: AlibabaFake,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    survey = make_survey(SurveyStatus.PLANNED, due_at=now)
    assert dispatch_due_surveys(session_factory, make_provider(fake), settings, now).sent == 1
    session.expire_all()
    assert survey.status is SurveyStatus.SENT
    [request] = fake.requests
    assert json.loads(request["TemplateParam"])["token"] == survey.token


def test_every_kind_needs_a_template():
    with pytest.raises(ConfigurationError, match="reminder"):
        AlibabaSmsProvider("k", "s", "民意回访", {SmsKind.SURVEY: "SMS_1", SmsKind.OPT_OUT_CONFIRMATION: "SMS_3"})


def test_settings_come_from_the_environment():
    loaded = load_dispatch_settings(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
            "ALIBABA_SMS_SIGN_NAME": "绍兴公安",
            "ALIBABA_SMS_TEMPLATE_SURVEY": "SMS_1",
            "ALIBABA_SMS_TEMPLATE_REMINDER": "SMS_2",
            "ALIBABA_SMS_TEMPLATE_OPT_OUT": "SMS_3",
            "ALIBABA_SMS_PUSH_TOKEN": "push",
            "MINYI_SMS_SEND_RATE_ALIBABA": "50",
        }
    )
    assert loaded.alibaba == AlibabaSettings(
        "id", "secret", "dysmsapi.aliyuncs.com", "绍兴公安", TEMPLATES_1_2_3, "push"
    )
    assert (loaded.send_rate("alibaba"), loaded.send_rate("console")) == (50.0, None)


TEMPLATES_1_2_3 = {SmsKind.SURVEY: "SMS_1", SmsKind.REMINDER: "SMS_2", SmsKind.OPT_OUT_CONFIRMATION: "SMS_3"}


def test_delivery_receipts_from_the_documented_push():
    payload = [
        {
            "phone_number": "13812345678",
            "send_time": "2026-11-20 14:00:00",
            "report_time": "2026-11-20 14:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "2",
            "biz_id": "900000^0",
            "out_id": "survey-7",
        },
        {"biz_id": "900001^0", "success": False, "err_code": "MK:0001", "err_msg": "不存在的用户"},
        {"biz_id": "900002^0", "success": False, "err_code": "IB:0008", "err_msg": "流量控制错"},
        {"success": True},
        "not an object",
    ]
    delivered, unknown_user, flow_control = parse_reports(payload)
    assert (delivered.provider_message_id, delivered.state, delivered.error_code) == (
        "900000^0",
        DeliveryState.DELIVERED,
        None,
    )
    assert (unknown_user.state, unknown_user.error_code, unknown_user.failure_kind) == (
        DeliveryState.FAILED,
        "MK:0001",
        FailureKind.UNREACHABLE,
    )
    assert flow_control.failure_kind is FailureKind.PERMANENT
    assert parse_reports({"not": "a list"}) == []


def test_replies_from_the_documented_push():
    payload = [
        {
            "phone_number": "13812345678",
            "send_time": "2026-11-20 14:05:00",
            "content": "5",
            "sign_name": "民意回访",
            "dest_code": "1234",
            "sequence_id": 1234567890,
        },
        {"phone_number": "12345", "content": "TD", "sequence_id": "2"},  # not a usable number
    ]
    [reply] = parse_replies(payload)
    assert (reply.provider, reply.provider_message_id, reply.phone_e164, reply.body) == (
        "alibaba",
        "1234567890",
        "+8613812345678",
        "5",
    )
