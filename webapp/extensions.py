"""Flask extensions, created unbound and attached in ``create_app`` (the init_app pattern)."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind CSRF protection and the rate limiter to ``app``."""
    csrf.init_app(app)
    limiter.init_app(app)
