"""Web-only configuration layered as in Flask's tutorial: defaults, environment, test mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from surveys.settings import configured_instance_dir, load_settings

DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # WTForms' Chinese messages without Flask-Babel (webapp.forms.StaffForm).
    "WTF_I18N_ENABLED": False,
    # Explicit, so that an app never takes over another app's setting (Flask-Limiter
    # fills a missing one from its last init_app).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # A rate-limit store that is down (Redis) must not take the site with it: the storage
    # raises limits.errors.StorageError, after which Flask-Limiter counts in each process
    # until the store answers again; a citizen page that meets the error goes uncounted
    # (webapp.citizen.views).
    "RATELIMIT_STORAGE_OPTIONS": {"wrap_exceptions": True},
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    # Failed logins per account, from any client (webapp.auth.views).
    "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",
    "SURVEY_RATE_LIMIT": "60 per minute",
    # Lookups of unknown tokens only: guessing stalls, citizens behind one carrier IP do not.
    "SURVEY_MISS_RATE_LIMIT": "10 per minute;60 per hour",
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "PROXY_FIX_HOPS": 0,
}


def _instance_dir(app: Flask) -> Path:
    """The installation's folder: ``MINYI_INSTANCE_DIR`` if set, else Flask's instance path.

    Flask's ``app.instance_path`` ignores the variable (it sits beside the package), so
    the settings' reading of it is taken and the key lands beside the default database.
    Unset, Flask's path stays, where an existing install already keeps its key.
    """
    return configured_instance_dir() or Path(app.instance_path)


def _instance_secret_key(folder: Path) -> str:
    """A per-installation key kept in ``<instance dir>/secret_key`` when none is configured.

    Production sets ``MINYI_SECRET_KEY``; the file keeps a development install's logins
    valid across restarts without anyone inventing a key.
    """
    path = folder / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # created readable by the owner only, by one process: two starting at once share it
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Fill ``app.config``; the shared domain settings land in ``MINYI_SETTINGS``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MINYI")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if "MINYI_SETTINGS" not in app.config:
        app.config["MINYI_SETTINGS"] = load_settings()
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(_instance_dir(app))
