"""Twilio through its official client, and Twilio's webhook forms in our terms.

The HTTP client is injectable so tests point the official client at the Prism mock of
Twilio's API; in production the client's own ``TwilioHttpClient`` is used with a timeout
and no automatic retries (a retried POST could text a citizen twice).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from surveys.errors import ConfigurationError
from surveys.settings import Settings
from surveys.sms.base import (
    DeliveryReport,
    DeliveryState,
    FailureKind,
    InboundSms,
    OutgoingSms,
    SendResult,
    SmsSendError,
)
from surveys.sms.transport import transport_failure

log = logging.getLogger(__name__)

NAME = "twilio"

#: Error codes (https://www.twilio.com/docs/api/errors) and what they mean for us.
FAILURE_KINDS: Mapping[int, FailureKind] = {
    # Worth retrying: rate limits, Twilio-side errors, full queues, handset off or busy.
    # 20003 (authentication) too: a rotated credential fixed within the retry window
    # must not fail every survey in the queue.
    20003: FailureKind.TRANSIENT,
    20429: FailureKind.TRANSIENT,
    20500: FailureKind.TRANSIENT,
    20503: FailureKind.TRANSIENT,
    30001: FailureKind.TRANSIENT,
    30003: FailureKind.TRANSIENT,
    30008: FailureKind.TRANSIENT,
    # The number can never take an SMS: invalid, unreachable, not mobile, unknown, landline.
    21211: FailureKind.UNREACHABLE,
    21612: FailureKind.UNREACHABLE,
    21614: FailureKind.UNREACHABLE,
    30005: FailureKind.UNREACHABLE,
    30006: FailureKind.UNREACHABLE,
    # The recipient replied STOP to our sender: Twilio will refuse every message.
    21610: FailureKind.UNSUBSCRIBED,
}

#: MessageStatus values of a status callback that end the message's journey.
_DELIVERED = frozenset({"delivered", "read"})
_FAILED = frozenset({"undelivered", "failed", "canceled"})


def classify(code: int | None, http_status: int) -> FailureKind:
    """What a Twilio error means; unknown codes fall back on the HTTP status."""
    if code is not None and code in FAILURE_KINDS:
        return FAILURE_KINDS[code]
    if http_status == 429 or http_status >= 500:
        return FailureKind.TRANSIENT
    return FailureKind.PERMANENT


class TwilioSmsProvider:
    """Sends via ``client.messages.create`` from a number or a messaging service."""

    name = NAME

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback_url: str | None = None,
        http_client: HttpClient | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ConfigurationError("Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self._client = Client(
            account_sid, auth_token, http_client=http_client or TwilioHttpClient(timeout=timeout_seconds)
        )
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._status_callback_url = status_callback_url

    @classmethod
    def from_settings(cls, settings: Settings, http_client: HttpClient | None = None) -> TwilioSmsProvider:
        """Build the provider from ``TWILIO_*`` settings."""
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ConfigurationError("MINYI_SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        return cls(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=settings.twilio_status_callback_url,
            http_client=http_client,
        )

    def send(self, message: OutgoingSms) -> SendResult:
        """Create the message; map Twilio errors onto our failure kinds."""
        kwargs: dict[str, str] = {"to": message.to, "body": message.body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        else:
            kwargs["from_"] = self._from_number or ""
        if self._status_callback_url:
            kwargs["status_callback"] = self._status_callback_url
        try:
            created = self._client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = int(exc.code) if exc.code is not None else None
            raise SmsSendError(str(code or exc.status), str(exc.msg), classify(code, exc.status)) from exc
        except requests.RequestException as exc:
            raise transport_failure(exc) from exc
        log.info("twilio accepted %s status=%s", created.sid, created.status)
        return SendResult(provider_message_id=str(created.sid), status=str(created.status))


def parse_status_callback(form: Mapping[str, str]) -> DeliveryReport | None:
    """A StatusCallback POST in our terms; None if it names no message."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        return None
    raw_code = form.get("ErrorCode") or None
    if status in _DELIVERED:
        state = DeliveryState.DELIVERED
    elif status in _FAILED:
        state = DeliveryState.FAILED
    else:
        state = DeliveryState.IN_FLIGHT
    code = int(raw_code) if raw_code and raw_code.isdigit() else None
    return DeliveryReport(
        provider=NAME,
        provider_message_id=sid,
        state=state,
        provider_status=status,
        error_code=raw_code,
        error_message=form.get("ErrorMessage") or None,
        failure_kind=classify(code, 400) if state is DeliveryState.FAILED else None,
    )


def parse_inbound(form: Mapping[str, str]) -> InboundSms | None:
    """An incoming-message POST in our terms; None if it lacks a sender or an id."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    sender = form.get("From")
    if not sid or not sender:
        return None
    return InboundSms(provider=NAME, provider_message_id=sid, phone_e164=sender, body=form.get("Body") or "")
