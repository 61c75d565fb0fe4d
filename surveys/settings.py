"""Typed settings shared by the web app, the scheduler and the CLI.

Read from the environment *when called*, never at import time, so tests and each
process can set their own values (Flask's "configuration best practices").
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from surveys.errors import ConfigurationError

DEFAULT_INSTANCE_DIR = Path("instance")


@dataclass(frozen=True)
class Settings:
    """Deployment settings; see docs/configuration.md for each variable."""

    database_url: str
    sms_provider: str
    public_base_url: str
    timezone: ZoneInfo
    sms_signature: str
    survey_delay_minutes: int
    survey_expiry_days: int
    quiet_hours_start: dt.time
    quiet_hours_end: dt.time
    dispatch_batch_size: int
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    twilio_status_callback_url: str | None
    default_region: str
    nlp_model_dir: str | None


def _time(value: str, name: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a HH:MM time") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``) with documented defaults."""
    env = os.environ if env is None else env
    instance_dir = Path(env.get("MINYI_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)))
    default_db = f"sqlite:///{(instance_dir / 'minyi.sqlite3').resolve()}"
    provider = env.get("MINYI_SMS_PROVIDER", "console")
    if provider not in {"console", "twilio", "alibaba"}:
        raise ConfigurationError(f"MINYI_SMS_PROVIDER={provider!r}: expected console, twilio or alibaba")
    tz_name = env.get("MINYI_TIMEZONE", "Asia/Shanghai")
    try:
        timezone = ZoneInfo(tz_name)
    except (KeyError, ValueError) as exc:
        raise ConfigurationError(f"MINYI_TIMEZONE={tz_name!r} is not a known time zone") from exc
    return Settings(
        database_url=env.get("MINYI_DATABASE_URL") or default_db,
        sms_provider=provider,
        public_base_url=env.get("MINYI_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        timezone=timezone,
        sms_signature=env.get("MINYI_SMS_SIGNATURE", "民意回访"),
        survey_delay_minutes=_int(env, "MINYI_SURVEY_DELAY_MINUTES", 120),
        survey_expiry_days=_int(env, "MINYI_SURVEY_EXPIRY_DAYS", 7),
        quiet_hours_start=_time(env.get("MINYI_QUIET_HOURS_START", "21:00"), "MINYI_QUIET_HOURS_START"),
        quiet_hours_end=_time(env.get("MINYI_QUIET_HOURS_END", "08:00"), "MINYI_QUIET_HOURS_END"),
        dispatch_batch_size=_int(env, "MINYI_DISPATCH_BATCH_SIZE", 100),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN"),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER"),
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID"),
        twilio_status_callback_url=env.get("TWILIO_STATUS_CALLBACK_URL"),
        default_region=env.get("MINYI_DEFAULT_REGION", "CN"),
        nlp_model_dir=env.get("MINYI_NLP_MODEL_DIR") or None,
    )
