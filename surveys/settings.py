"""Typed settings shared by the web app, the scheduler and the CLI.

Read from the environment *when called*, never at import time, so tests and each
process can set their own values (Flask's "configuration best practices").
"""

from __future__ import annotations

import datetime as dt
import os
import re
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


#: Accepted ranges (inclusive) of the environment's survey timing. The admin form's limits
#: (``surveys.policy_admin.LIMITS``) are built from them, so one value is valid in both.
SURVEY_DELAY_MINUTES_RANGE = (0, 7 * 24 * 60)
SURVEY_EXPIRY_DAYS_RANGE = (1, 30)
#: A batch of 0 claims nothing, ever; a huge one holds rows in ``sending`` that one claim's
#: lease cannot send (they are released untried), so 1,000 (ten times the default) bounds it.
DISPATCH_BATCH_SIZE_RANGE = (1, 1000)

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _time(value: str, name: str) -> dt.time:
    """A local wall-clock time, exactly ``HH:MM``.

    Seconds are refused because the send window opens on the whole minute
    (``surveys.policy.next_send_window``): an end of 08:00:30 would postpone every due
    survey by a day, forever. A time zone is refused because ``MINYI_TIMEZONE`` sets it.
    """
    match = _HH_MM.fullmatch(value)
    if match is None:
        raise ConfigurationError(f"{name}={value!r} is not a HH:MM time (00:00 to 23:59, no seconds)")
    return dt.time(int(match[1]), int(match[2]))


def _quiet_hours(env: Mapping[str, str]) -> tuple[dt.time, dt.time]:
    """The local window without SMS; an empty one (start == end) would silently disable it."""
    start = _time(env.get("MINYI_QUIET_HOURS_START", "21:00"), "MINYI_QUIET_HOURS_START")
    end = _time(env.get("MINYI_QUIET_HOURS_END", "08:00"), "MINYI_QUIET_HOURS_END")
    if start == end:
        raise ConfigurationError(
            f"MINYI_QUIET_HOURS_START and MINYI_QUIET_HOURS_END are both {start:%H:%M}: "
            "quiet hours need an end different from their start"
        )
    return start, end


def _int(env: Mapping[str, str], name: str, default: int, bounds: tuple[int, int]) -> int:
    """An integer setting within ``bounds`` (inclusive), naming the variable if it is not."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from exc
    low, high = bounds
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def configured_instance_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """``MINYI_INSTANCE_DIR`` of ``env`` (default ``os.environ``), resolved from the working directory; None if unset.

    The installation's own files live there: the default SQLite file, and the web app's
    generated secret key (``webapp.config``).
    """
    value = (os.environ if env is None else env).get("MINYI_INSTANCE_DIR")
    return None if value is None else Path(value).resolve()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``) with documented defaults."""
    env = os.environ if env is None else env
    instance_dir = configured_instance_dir(env) or DEFAULT_INSTANCE_DIR
    default_db = f"sqlite:///{(instance_dir / 'minyi.sqlite3').resolve()}"
    provider = env.get("MINYI_SMS_PROVIDER", "console")
    if provider not in {"console", "twilio", "alibaba"}:
        raise ConfigurationError(f"MINYI_SMS_PROVIDER={provider!r}: expected console, twilio or alibaba")
    tz_name = env.get("MINYI_TIMEZONE", "Asia/Shanghai")
    try:
        timezone = ZoneInfo(tz_name)
    except (KeyError, ValueError) as exc:
        raise ConfigurationError(f"MINYI_TIMEZONE={tz_name!r} is not a known time zone") from exc
    quiet_hours_start, quiet_hours_end = _quiet_hours(env)
    return Settings(
        database_url=env.get("MINYI_DATABASE_URL") or default_db,
        sms_provider=provider,
        public_base_url=env.get("MINYI_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        timezone=timezone,
        sms_signature=env.get("MINYI_SMS_SIGNATURE", "民意回访"),
        survey_delay_minutes=_int(env, "MINYI_SURVEY_DELAY_MINUTES", 120, SURVEY_DELAY_MINUTES_RANGE),
        survey_expiry_days=_int(env, "MINYI_SURVEY_EXPIRY_DAYS", 7, SURVEY_EXPIRY_DAYS_RANGE),
        quiet_hours_start=quiet_hours_start,
        quiet_hours_end=quiet_hours_end,
        dispatch_batch_size=_int(env, "MINYI_DISPATCH_BATCH_SIZE", 100, DISPATCH_BATCH_SIZE_RANGE),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN"),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER"),
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID"),
        twilio_status_callback_url=env.get("TWILIO_STATUS_CALLBACK_URL"),
        default_region=env.get("MINYI_DEFAULT_REGION", "CN"),
        nlp_model_dir=env.get("MINYI_NLP_MODEL_DIR") or None,
    )
