"""Twilio's signed webhooks: status callbacks and inbound replies; forged ones get 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from surveys.models import ReplyOutcome, SmsDirection, SmsKind, SmsMessage, Survey
from surveys.states import SurveyStatus
from tests.webapp.sms_webhooks.conftest import AUTH_TOKEN, PUBLIC, signed_post

SID = "SM" + "a" * 32
ACCOUNT = "AC" + "0" * 32


def status(value: str, code: str | None = None) -> dict[str, str]:
    form = {"MessageSid": SID, "SmsSid": SID, "AccountSid": ACCOUNT, "MessageStatus": value, "SmsStatus": value}
    form |= {"To": "+8613812345678", "From": "+15005550001", "ApiVersion": "2010-04-01"}
    return form | ({"ErrorCode": code} if code else {})


def inbound(body: str, phone: str, sid: str = "SM" + "b" * 32) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT,
        "From": phone,
        "To": "+15005550001",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def count(session: Session, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(SmsMessage).where(*where)) or 0


def test_a_signed_delivery_callback_marks_the_survey_delivered_and_a_replay_changes_nothing(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey()
    assert signed_post(client, "/sms/twilio/status", status("sent")).status_code == 204
    assert signed_post(client, "/sms/twilio/status", status("delivered")).status_code == 204
    session.expire_all()
    delivered_at = survey.delivered_at
    assert survey.status is SurveyStatus.DELIVERED
    assert delivered_at is not None
    assert signed_post(client, "/sms/twilio/status", status("delivered")).status_code == 204
    session.expire_all()
    assert (survey.status, survey.delivered_at) == (SurveyStatus.DELIVERED, delivered_at)


def test_an_undelivered_callback_fails_the_survey_with_the_code(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey()
    assert signed_post(client, "/sms/twilio/status", status("undelivered", "30003")).status_code == 204
    session.expire_all()
    assert (survey.status, survey.last_error_code) == (SurveyStatus.FAILED, "30003")


@pytest.mark.parametrize(
    "forge",
    [
        lambda client, form: signed_post(client, "/sms/twilio/status", form, token="not-the-token"),
        lambda client, form: client.post("https://minyi.example.gov.cn/sms/twilio/status", data=form),
        lambda client, form: signed_post(client, "/sms/twilio/status", form, signed_base="https://evil.example"),
        lambda client, form: signed_post(
            client, "/sms/twilio/status", form, signed_params=status("undelivered", "30005")
        ),
    ],
    ids=["wrong key", "no signature", "signed for another URL", "tampered with after signing"],
)
def test_a_forged_status_callback_is_refused(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey], forge: Callable[..., object]
):
    survey = sent_survey()
    assert forge(client, status("delivered")).status_code == 403  # type: ignore[attr-defined]
    session.expire_all()
    assert survey.status is SurveyStatus.SENT


def test_a_signed_inbound_rating_answers_the_survey(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey()
    response = signed_post(client, "/sms/twilio/inbound", inbound("4", survey.contact.phone_e164))
    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    assert "<Response" in response.get_data(as_text=True)
    assert "<Message" not in response.get_data(as_text=True)  # no automatic reply
    session.expire_all()
    assert survey.status is SurveyStatus.ANSWERED
    assert survey.response is not None
    assert survey.response.overall == 4


def test_td_opts_out_once_even_when_the_webhook_is_replayed(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey()
    form = inbound("TD", survey.contact.phone_e164)
    assert signed_post(client, "/sms/twilio/inbound", form).status_code == 200
    assert signed_post(client, "/sms/twilio/inbound", form).status_code == 200
    assert (
        signed_post(client, "/sms/twilio/inbound", inbound("退订", survey.contact.phone_e164, "SMc")).status_code == 200
    )
    session.expire_all()
    assert survey.status is SurveyStatus.OPTED_OUT
    assert count(session, SmsMessage.kind == SmsKind.OPT_OUT_CONFIRMATION) == 1
    outcomes = session.scalars(
        select(SmsMessage.reply_outcome).where(SmsMessage.direction == SmsDirection.INBOUND).order_by(SmsMessage.id)
    ).all()
    assert outcomes == [ReplyOutcome.OPT_OUT, ReplyOutcome.REPEATED_OPT_OUT]


def test_a_forged_inbound_message_is_refused_and_not_stored(
    client: FlaskClient, session: Session, sent_survey: Callable[..., Survey]
):
    survey = sent_survey()
    form = inbound("1", survey.contact.phone_e164)
    assert signed_post(client, "/sms/twilio/inbound", form, token="guess").status_code == 403
    assert count(session, SmsMessage.direction == SmsDirection.INBOUND) == 0


def test_signatures_are_checked_against_the_public_url_behind_a_proxy(
    session: Session, sent_survey: Callable[..., Survey], app: Flask
):
    from webapp import create_app

    survey = sent_survey()
    # Twilio signed the public https URL; the proxy talks plain HTTP to the app on an internal name.
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/sms/twilio/status", status("delivered"))
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "minyi.example.gov.cn",
        "X-Forwarded-For": "203.0.113.7",
    }
    internal_url = "http://app:8000/sms/twilio/status"
    unproxied = app.test_client().post(internal_url, data=status("delivered"), headers=headers)
    assert unproxied.status_code == 403  # without ProxyFix, request.url is not the signed URL
    proxied = create_app({**app.config, "PROXY_FIX_HOPS": 1}).test_client()
    assert proxied.post(internal_url, data=status("delivered"), headers=headers).status_code == 204
    session.expire_all()
    assert survey.status is SurveyStatus.DELIVERED
