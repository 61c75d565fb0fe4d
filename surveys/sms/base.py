"""The SMS provider interface, and the provider-neutral shapes of what goes out and comes back.

Dispatch, the outbox and the webhooks speak only these types; each provider module maps
its own API and webhook formats onto them, so the rest of Minyi never sees a Twilio
status name or an Alibaba error code it has to interpret.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from surveys.db import PROVIDER_CODE_LENGTH
from surveys.models import SmsKind


@dataclass(frozen=True)
class OutgoingSms:
    """One message to send: the rendered text, and the template parameters behind it.

    Providers that send free text use ``body``; those that send registered templates
    (Alibaba Cloud) use ``kind`` to pick the template and ``params`` to fill it.
    ``reference`` is our id for the message, echoed back by providers that support it.
    """

    to: str
    body: str
    kind: SmsKind
    params: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_message_id: str
    status: str


class FailureKind(enum.StrEnum):
    """What a refused send means for the survey and for the number."""

    #: Timeouts before the request left, HTTP 429/5xx, carrier queues: try again later.
    TRANSIENT = "transient"
    #: This message will never go through (bad template, account problem): fail it.
    PERMANENT = "permanent"
    #: The number cannot receive SMS (invalid, not mobile, landline): fail and suppress it.
    UNREACHABLE = "unreachable"
    #: The recipient unsubscribed at the carrier or provider: fail and opt the number out.
    UNSUBSCRIBED = "unsubscribed"


class SmsSendError(Exception):
    """The provider refused or failed a send; nothing reached the citizen.

    ``code`` and ``message`` are the provider's own, recorded on the survey and on the
    message row so an administrator can look them up in the provider's documentation.
    """

    def __init__(self, code: str, message: str, kind: FailureKind) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code[:PROVIDER_CODE_LENGTH]  # what the columns hold; real codes are shorter
        self.message = message
        self.kind = kind

    @property
    def is_transient(self) -> bool:
        """Whether a later retry may succeed."""
        return self.kind is FailureKind.TRANSIENT


class SmsOutcomeUnknownError(Exception):
    """The request may have reached the provider but no answer came back (a read timeout).

    Retrying could text the citizen twice, so dispatch records the survey as ``unknown``
    exactly as if the process had died mid-send.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "no_response"
        self.message = message


class SmsProvider(Protocol):
    """Sends one SMS; implementations must time out rather than hang."""

    name: str

    def send(self, message: OutgoingSms) -> SendResult:
        """Send ``message`` or raise :class:`SmsSendError` / :class:`SmsOutcomeUnknownError`."""
        ...


class DeliveryState(enum.StrEnum):
    """Where a sent message is, as far as the handset is concerned."""

    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's status callback or delivery receipt for one message we sent."""

    provider: str
    provider_message_id: str
    state: DeliveryState
    provider_status: str
    error_code: str | None = None
    error_message: str | None = None
    failure_kind: FailureKind | None = None

    def __post_init__(self) -> None:
        """Cut the codes to what the columns hold: a callback's fields are the provider's."""
        object.__setattr__(self, "provider_status", self.provider_status[:PROVIDER_CODE_LENGTH])
        if self.error_code is not None:
            object.__setattr__(self, "error_code", self.error_code[:PROVIDER_CODE_LENGTH])


@dataclass(frozen=True)
class InboundSms:
    """A message a citizen sent us, as a provider's webhook reported it."""

    provider: str
    provider_message_id: str
    phone_e164: str
    body: str
