"""Flask extensions, created unbound and attached in ``create_app`` (the init_app pattern)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

from webapp.security import init_for_staff_pages

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _limits_off_in_this_app() -> bool:
    """Whether this request's app turned rate limiting off (``RATELIMIT_ENABLED``).

    Flask-Limiter keeps ``enabled`` on the one limiter, set by the last ``init_app``, so
    with two apps in a process the last one decided for both: the browser tests' live
    server, built without limits, answered 429 to logins once a test had built an app
    with them. Read per app, each keeps its own setting.
    """
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def init_app(app: Flask) -> None:
    """Bind CSRF protection and the rate limiter to ``app``, their hooks on staff pages only.

    The citizen pages are exempt from CSRF (``webapp.citizen.views`` says why) and count
    their own per-client budgets; the extensions' app-wide hooks would only work that out
    on every citizen request, at about a tenth of the survey page's CPU (docs/survey.md).
    """
    init_for_staff_pages(app, csrf.init_app)
    init_for_staff_pages(app, limiter.init_app)
