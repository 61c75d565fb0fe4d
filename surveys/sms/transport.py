"""Did a failed HTTP call reach the provider? The answer decides between retry and ``unknown``.

A connection that was never established (refused, DNS failure, connect timeout, TLS
handshake) cannot have sent anything, so the survey may safely be retried. Anything
later (a read timeout, a connection dropped after the request was written) may have
delivered the SMS, and at-most-once forbids a retry. Both official SDKs use
``requests``, so one classification serves Twilio and Alibaba Cloud.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from surveys.sms.base import FailureKind, SmsOutcomeUnknownError, SmsSendError


def request_never_left(exc: BaseException) -> bool:
    """Whether ``exc`` proves the request was not sent (connect-phase failures only)."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args and isinstance(exc.args[0], MaxRetryError):
        return isinstance(exc.args[0].reason, NewConnectionError | ConnectTimeoutError)
    return False


def transport_failure(exc: BaseException) -> SmsSendError | SmsOutcomeUnknownError:
    """The domain error for a network failure: transient if unsent, else outcome unknown."""
    if request_never_left(exc):
        return SmsSendError("network", f"{type(exc).__name__}: {exc}", FailureKind.TRANSIENT)
    return SmsOutcomeUnknownError(f"{type(exc).__name__}: {exc}")
