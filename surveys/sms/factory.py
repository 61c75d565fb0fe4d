"""Pick the configured provider (an edge concern: the scheduler and CLI call this)."""

from __future__ import annotations

from surveys.settings import Settings
from surveys.sms.base import SmsProvider
from surveys.sms.console import ConsoleSmsProvider


def make_provider(settings: Settings) -> SmsProvider:
    """The provider named by ``MINYI_SMS_PROVIDER``."""
    if settings.sms_provider == "twilio":
        from surveys.sms.twilio import TwilioSmsProvider

        return TwilioSmsProvider.from_settings(settings)
    return ConsoleSmsProvider()
