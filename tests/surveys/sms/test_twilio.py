"""The Twilio provider through the official client against the mock of Twilio's API."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.sms.base import SmsSendError
from surveys.sms.twilio import TwilioSmsProvider

ACCOUNT_SID = "AC" + "0" * 32


@pytest.fixture
def provider(twilio_http_client: Any) -> TwilioSmsProvider:
    return TwilioSmsProvider(
        ACCOUNT_SID,
        "test-token",
        from_number="+15005550006",
        status_callback_url="https://minyi.example/sms/twilio/status",
        http_client=twilio_http_client,
    )


def test_send_returns_the_message_sid(provider: TwilioSmsProvider, twilio_http_client: Any):
    result = provider.send("+8613812345678", "【民意回访】请评价：http://minyi.test/s/abc 回TD退订")
    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert "/2010-04-01/Accounts/" in twilio_http_client.last_url


@pytest.mark.parametrize(
    ("code", "example", "expected_code", "transient"),
    [
        (400, "e21211", "21211", False),
        (400, "e21610", "21610", False),
        (429, None, "20429", True),
        (500, None, "20500", True),
    ],
)
def test_errors_are_classified(
    provider: TwilioSmsProvider, twilio_http_client: Any, code, example, expected_code, transient
):
    with twilio_http_client.prefer(code=code, example=example), pytest.raises(SmsSendError) as caught:
        provider.send("+8613812345678", "测试")
    assert caught.value.code == expected_code
    assert caught.value.is_transient is transient
