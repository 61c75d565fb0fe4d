"""The Twilio provider through the official client against the mock of Twilio's API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.dispatch import dispatch_due_surveys
from surveys.models import OptOut, PhoneSuppression, SmsKind, SmsMessage, SmsSendStatus, Survey
from surveys.settings import Settings
from surveys.sms.base import DeliveryState, FailureKind, OutgoingSms, SmsOutcomeUnknownError, SmsSendError
from surveys.sms.twilio import TwilioSmsProvider, parse_inbound, parse_status_callback
from surveys.states import SurveyStatus

ACCOUNT_SID = "AC" + "0" * 32
STATUS_CALLBACK = "https://minyi.example/sms/twilio/status"
MESSAGE = OutgoingSms("+8613812345678", "【民意回访】请评价：http://minyi.test/s/abc 回TD退订", SmsKind.SURVEY)


@pytest.fixture
def provider(twilio_http_client: Any) -> TwilioSmsProvider:
    return TwilioSmsProvider(
        ACCOUNT_SID,
        "test-token",
        from_number="+15005550006",
        status_callback_url=STATUS_CALLBACK,
        http_client=twilio_http_client,
    )


def test_send_returns_the_message_sid_and_asks_for_status_callbacks(
    provider: TwilioSmsProvider, twilio_http_client: Any
):
    result = provider.send(MESSAGE)
    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert "/2010-04-01/Accounts/" in twilio_http_client.last_url
    assert twilio_http_client.last_data == {
        "To": MESSAGE.to,
        "Body": MESSAGE.body,
        "From": "+15005550006",
        "StatusCallback": STATUS_CALLBACK,
    }


def test_a_messaging_service_replaces_the_from_number(twilio_http_client: Any):
    service = "MG" + "1" * 32
    provider = TwilioSmsProvider(ACCOUNT_SID, "t", messaging_service_sid=service, http_client=twilio_http_client)
    assert provider.send(MESSAGE).provider_message_id.startswith("SM")
    assert twilio_http_client.last_data["MessagingServiceSid"] == service
    assert "From" not in twilio_http_client.last_data


@pytest.mark.parametrize(
    ("code", "example", "error_code", "kind", "survey_status"),
    [
        (400, "e21211", "21211", FailureKind.UNREACHABLE, SurveyStatus.FAILED),
        (400, "e21610", "21610", FailureKind.UNSUBSCRIBED, SurveyStatus.FAILED),
        (400, "e21614", "21614", FailureKind.UNREACHABLE, SurveyStatus.FAILED),
        (429, None, "20429", FailureKind.TRANSIENT, SurveyStatus.PLANNED),
        (500, None, "20500", FailureKind.TRANSIENT, SurveyStatus.PLANNED),
        (503, None, "20503", FailureKind.TRANSIENT, SurveyStatus.PLANNED),
    ],
)
def test_twilio_errors_decide_the_surveys_fate(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    provider: TwilioSmsProvider,
    twilio_http_client: Any,
    make_survey: Callable[..., Survey],
    now: dt.datetime,
    code: int,
    example: str | None,
    error_code: str,
    kind: FailureKind,
    survey_status: SurveyStatus,
):
    with twilio_http_client.prefer(code=code, example=example), pytest.raises(SmsSendError) as caught:
        provider.send(MESSAGE)
    assert (caught.value.code, caught.value.kind) == (error_code, kind)

    survey = make_survey(SurveyStatus.PLANNED, due_at=now)
    phone = survey.contact.phone_e164
    with twilio_http_client.prefer(code=code, example=example):
        dispatch_due_surveys(session_factory, provider, settings, now)
    session.expire_all()
    assert (survey.status, survey.last_error_code) == (survey_status, error_code)
    assert bool(survey.last_error_message)
    suppressed = session.scalars(select(PhoneSuppression).where(PhoneSuppression.phone_e164 == phone)).all()
    opted_out = session.scalars(select(OptOut).where(OptOut.phone_e164 == phone)).all()
    assert (len(suppressed), len(opted_out)) == (
        int(kind is FailureKind.UNREACHABLE),
        int(kind is FailureKind.UNSUBSCRIBED),
    )


def test_dispatch_through_twilio_records_the_sid(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    provider: TwilioSmsProvider,
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    survey = make_survey(SurveyStatus.PLANNED, due_at=now)
    assert dispatch_due_surveys(session_factory, provider, settings, now).sent == 1
    session.expire_all()
    [message] = session.scalars(select(SmsMessage).where(SmsMessage.survey_id == survey.id)).all()
    assert (message.provider, message.send_status, survey.status) == ("twilio", SmsSendStatus.SENT, SurveyStatus.SENT)
    assert message.provider_message_id is not None
    assert message.provider_message_id.startswith("SM")


def test_a_refused_connection_is_transient(mock_client_class: Any, closed_port_url: str):
    provider = TwilioSmsProvider(
        ACCOUNT_SID, "t", from_number="+15005550006", http_client=mock_client_class(closed_port_url)
    )
    with pytest.raises(SmsSendError) as caught:
        provider.send(MESSAGE)
    assert (caught.value.code, caught.value.kind) == ("network", FailureKind.TRANSIENT)


def test_a_read_timeout_leaves_the_outcome_unknown(mock_client_class: Any, silent_server: str):
    client = mock_client_class(silent_server, timeout=0.3)
    provider = TwilioSmsProvider(ACCOUNT_SID, "t", from_number="+15005550006", http_client=client)
    with pytest.raises(SmsOutcomeUnknownError):
        provider.send(MESSAGE)


@pytest.mark.parametrize(
    ("status", "error_code", "state", "kind"),
    [
        ("queued", None, DeliveryState.IN_FLIGHT, None),
        ("sent", None, DeliveryState.IN_FLIGHT, None),
        ("delivered", None, DeliveryState.DELIVERED, None),
        ("undelivered", "30003", DeliveryState.FAILED, FailureKind.TRANSIENT),
        ("undelivered", "30005", DeliveryState.FAILED, FailureKind.UNREACHABLE),
        ("failed", "30006", DeliveryState.FAILED, FailureKind.UNREACHABLE),
    ],
)
def test_status_callbacks_in_our_terms(
    status: str, error_code: str | None, state: DeliveryState, kind: FailureKind | None
):
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
    if error_code:
        form["ErrorCode"] = error_code
    report = parse_status_callback(form)
    assert report is not None
    assert (report.state, report.error_code, report.failure_kind) == (state, error_code, kind)


def test_inbound_messages_in_our_terms():
    inbound = parse_inbound({"MessageSid": "SMx", "From": "+8613812345678", "Body": "５"})
    assert inbound is not None
    assert (inbound.provider, inbound.provider_message_id, inbound.phone_e164, inbound.body) == (
        "twilio",
        "SMx",
        "+8613812345678",
        "５",
    )
    assert parse_inbound({"Body": "1"}) is None
