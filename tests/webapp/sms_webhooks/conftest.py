"""Webhook fixtures: provider secrets configured, and requests signed as the providers sign them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from surveys.dispatch_settings import AlibabaSettings, DispatchSettings
from surveys.models import Survey
from surveys.settings import Settings
from tests.surveys.sms_rows import record_accepted_invitation

AUTH_TOKEN = "test-twilio-token"
PUSH_TOKEN = "test-push-token"
PUBLIC = "https://minyi.example.gov.cn"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The deployment settings with a Twilio auth token (the webhooks' signing key)."""
    return dataclasses.replace(settings, twilio_auth_token=AUTH_TOKEN)


@pytest.fixture(autouse=True)
def push_token(app: Flask) -> None:
    """The secret of the Alibaba push URLs."""
    app.config["MINYI_DISPATCH_SETTINGS"] = DispatchSettings(alibaba=AlibabaSettings(push_token=PUSH_TOKEN))


def signed_post(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    token: str = AUTH_TOKEN,
    signed_base: str = PUBLIC,
    signed_params: dict[str, str] | None = None,
) -> Any:
    """POST ``params`` to the public URL with Twilio's signature (over what a test chooses)."""
    signature = RequestValidator(token).compute_signature(signed_base + path, signed_params or params)
    return client.post(
        PUBLIC + path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


@pytest.fixture
def sent_survey(session: Session, make_survey: Callable[..., Survey], now: dt.datetime) -> Callable[..., Survey]:
    """``sent_survey(provider, message_id)``: a sent survey with its invitation's log row."""

    def factory(provider: str = "twilio", message_id: str = "SM" + "a" * 32) -> Survey:
        survey = make_survey()
        record_accepted_invitation(session, survey, provider, message_id)
        session.commit()
        return survey

    return factory
