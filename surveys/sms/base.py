"""The SMS provider interface and its result and error types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_message_id: str
    status: str


class SmsSendError(Exception):
    """The provider refused or failed a send.

    ``is_transient`` tells dispatch whether to retry later (timeouts, 429, 5xx) or to fail
    the survey at once (invalid number, unsubscribed, landline); ``code`` is the provider's.
    """

    def __init__(self, code: str, message: str, *, is_transient: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.is_transient = is_transient


class SmsProvider(Protocol):
    """Sends one SMS; implementations must time out rather than hang."""

    name: str

    def send(self, to: str, body: str) -> SendResult:
        """Send ``body`` to the E.164 number ``to`` or raise :class:`SmsSendError`."""
        ...
