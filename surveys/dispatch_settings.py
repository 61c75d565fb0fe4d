"""Settings of the SMS providers and the send rate, read from the environment when called.

They sit beside :mod:`surveys.settings` rather than in it because only the processes that
send or receive SMS need them; like it, nothing is read at import time. The policy
(delay, quiet hours, caps, templates) is not here: administrators edit it in the database
(:mod:`surveys.policy`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from surveys.errors import ConfigurationError
from surveys.models import SmsKind
from surveys.send_rate import BOOKING_HORIZON, MAX_RATE_PER_SECOND, MIN_RATE_PER_SECOND

_RATE_PREFIX = "MINYI_SMS_SEND_RATE_"
_ALIBABA_TEMPLATE_VARIABLES = {
    SmsKind.SURVEY: "ALIBABA_SMS_TEMPLATE_SURVEY",
    SmsKind.REMINDER: "ALIBABA_SMS_TEMPLATE_REMINDER",
    SmsKind.OPT_OUT_CONFIRMATION: "ALIBABA_SMS_TEMPLATE_OPT_OUT",
}


@dataclass(frozen=True)
class AlibabaSettings:
    """Alibaba Cloud SMS: credentials, the sign name, one registered template per message kind."""

    access_key_id: str | None = None
    access_key_secret: str | None = None
    endpoint: str = "dysmsapi.aliyuncs.com"
    sign_name: str | None = None
    templates: Mapping[SmsKind, str] = field(default_factory=dict)
    #: The secret in the push URLs configured in the Alibaba console (its pushes are unsigned).
    push_token: str | None = None


@dataclass(frozen=True)
class DispatchSettings:
    """How fast each provider may send, and the Alibaba Cloud account."""

    #: Messages per second per provider name; a provider not listed is not limited.
    send_rates: Mapping[str, float] = field(default_factory=dict)
    alibaba: AlibabaSettings = field(default_factory=AlibabaSettings)

    def send_rate(self, provider: str) -> float | None:
        """The configured rate of ``provider``, or None for no limit."""
        rate = self.send_rates.get(provider)
        return rate if rate else None


def _rate(name: str, raw: str) -> float:
    """A provider's rate, refused here if the scheduler could not keep to it.

    NaN and infinity would make :meth:`SendSchedule.capacity` raise on every tick, and a
    rate below one message per booking horizon would book nothing, ever: both would stop
    sending without a word. The text is read as a :class:`~decimal.Decimal` so that a tiny
    rate such as ``1e-400`` is refused instead of rounding to 0.0, which means no limit.
    """
    try:
        rate = Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigurationError(f"{name}={raw!r} is not a number of messages per second") from exc
    if not rate.is_finite():
        raise ConfigurationError(f"{name}={raw!r} is not a finite number of messages per second")
    if rate < 0:
        raise ConfigurationError(f"{name}={raw!r} must not be negative")
    if rate and not MIN_RATE_PER_SECOND <= rate <= MAX_RATE_PER_SECOND:
        horizon = BOOKING_HORIZON.total_seconds()
        raise ConfigurationError(
            f"{name}={raw!r}: expected 0 (no limit) or a rate from one message per {horizon:g} s "
            f"(1/{horizon:g} ≈ {MIN_RATE_PER_SECOND:.4f}) to {MAX_RATE_PER_SECOND} messages per second"
        )
    return float(rate)


def load_dispatch_settings(env: Mapping[str, str] | None = None) -> DispatchSettings:
    """Build the settings from ``env`` (default ``os.environ``).

    ``MINYI_SMS_SEND_RATE_<PROVIDER>`` (e.g. ``MINYI_SMS_SEND_RATE_TWILIO=1``) sets a
    provider's rate; the Alibaba variables are listed in docs/dispatch.md.
    """
    env = os.environ if env is None else env
    send_rates = {
        name.removeprefix(_RATE_PREFIX).lower(): _rate(name, raw)
        for name, raw in env.items()
        if name.startswith(_RATE_PREFIX) and raw
    }
    alibaba = AlibabaSettings(
        access_key_id=env.get("ALIBABA_CLOUD_ACCESS_KEY_ID") or None,
        access_key_secret=env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET") or None,
        endpoint=env.get("ALIBABA_SMS_ENDPOINT") or AlibabaSettings.endpoint,
        sign_name=env.get("ALIBABA_SMS_SIGN_NAME") or None,
        templates={kind: code for kind, name in _ALIBABA_TEMPLATE_VARIABLES.items() if (code := env.get(name))},
        push_token=env.get("ALIBABA_SMS_PUSH_TOKEN") or None,
    )
    return DispatchSettings(send_rates=send_rates, alibaba=alibaba)
