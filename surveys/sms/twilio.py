"""Twilio through its official client.

The HTTP client is injectable so tests point the official client at the Prism mock of
Twilio's API; in production the client's own ``TwilioHttpClient`` is used with a timeout.
"""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from surveys.errors import ConfigurationError
from surveys.settings import Settings
from surveys.sms.base import SendResult, SmsSendError

log = logging.getLogger(__name__)

#: Twilio error codes worth retrying (queue overflow, unreachable handset, rate limits).
TRANSIENT_CODES = frozenset({20429, 30003, 30008, 20500, 20503})
#: Codes that will never succeed for this number (invalid, unsubscribed, not mobile).
PERMANENT_CODES = frozenset({21211, 21610, 21612, 21614, 30005, 30006, 21408, 21604, 21602, 21606})


class TwilioSmsProvider:
    """Sends via ``client.messages.create`` from a number or a messaging service."""

    name = "twilio"

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

    def send(self, to: str, body: str) -> SendResult:
        """Create the message; map Twilio errors to transient or permanent failures."""
        kwargs: dict[str, str] = {"to": to, "body": body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        else:
            kwargs["from_"] = self._from_number or ""
        if self._status_callback_url:
            kwargs["status_callback"] = self._status_callback_url
        try:
            message = self._client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = int(exc.code) if exc.code is not None else exc.status
            transient = code in TRANSIENT_CODES or (
                code not in PERMANENT_CODES and (exc.status == 429 or exc.status >= 500)
            )
            raise SmsSendError(str(code), str(exc.msg), is_transient=transient) from exc
        except OSError as exc:  # connection refused, timeouts (requests' errors subclass OSError)
            raise SmsSendError("network", str(exc), is_transient=True) from exc
        log.info("twilio accepted %s status=%s", message.sid, message.status)
        return SendResult(provider_message_id=str(message.sid), status=str(message.status))
