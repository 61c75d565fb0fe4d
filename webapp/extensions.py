"""Flask extensions, created unbound and attached in ``create_app`` (the init_app pattern)."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

from webapp.security import init_for_staff_pages

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind CSRF protection and the rate limiter to ``app``, their hooks on staff pages only.

    The citizen pages are exempt from CSRF (``webapp.citizen.views`` says why) and count
    their own per-client budgets; the extensions' app-wide hooks would only work that out
    on every citizen request, at about a tenth of the survey page's CPU (docs/survey.md).
    """
    init_for_staff_pages(app, csrf.init_app)
    init_for_staff_pages(app, limiter.init_app)
