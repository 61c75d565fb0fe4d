"""Flask extensions, created unbound and attached in ``create_app`` (the init_app pattern)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

from webapp.security import is_citizen_path

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind CSRF protection and the rate limiter to ``app``."""
    csrf.init_app(app)
    _init_limiter(app)


def _init_limiter(app: Flask) -> None:
    """Bind the rate limiter, its request hooks running on staff pages only.

    The citizen pages count their own per-client budgets (``webapp.citizen.views``) and
    no limiter limit applies to them; yet Flask-Limiter's before-, after- and teardown
    hooks, which run for every request of the app, cost the survey page a tenth of its
    CPU working that out (measured in docs/survey.md). So the hooks it registers are
    wrapped to pass the citizen pages by, decided from the path.
    """
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    existing = [list(registry.get(None, ())) for registry in registries]
    limiter.init_app(app)
    for registry, old in zip(registries, existing, strict=True):
        registry[None] = [hook if hook in old else _staff_pages_only(hook) for hook in registry.get(None, ())]


def _staff_pages_only(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook``, skipped on the citizen pages.

    Skipped, it hands its first argument back: an after-request hook's response goes on
    unchanged, and what a teardown hook returns is ignored.
    """

    @wraps(hook)
    def on_staff_pages(*args: Any) -> Any:
        if is_citizen_path(request.path):
            return args[0] if args else None
        return hook(*args)

    return on_staff_pages
