"""Pick the configured provider (an edge concern: the scheduler and CLI call this)."""

from __future__ import annotations

from surveys.dispatch_settings import DispatchSettings
from surveys.errors import ConfigurationError
from surveys.settings import Settings
from surveys.sms.base import SmsProvider
from surveys.sms.console import ConsoleSmsProvider


def make_provider(settings: Settings, dispatch_settings: DispatchSettings) -> SmsProvider:
    """The provider named by ``MINYI_SMS_PROVIDER`` (console, twilio or alibaba).

    The SDKs are imported only when chosen, so a console deployment never loads them.
    """
    if settings.sms_provider == "twilio":
        from surveys.sms.twilio import TwilioSmsProvider

        return TwilioSmsProvider.from_settings(settings)
    if settings.sms_provider == "alibaba":
        from surveys.sms.alibaba import AlibabaSmsProvider

        return AlibabaSmsProvider.from_settings(dispatch_settings.alibaba, settings.sms_signature)
    if settings.sms_provider == "console":
        return ConsoleSmsProvider()
    raise ConfigurationError(f"unknown SMS provider {settings.sms_provider!r}")
