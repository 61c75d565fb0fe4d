"""HTTP errors decided before any view runs, answered in the language of their audience.

A path no route matches, a method no view takes or a body over ``MAX_CONTENT_LENGTH``
reaches no blueprint's own error handlers, since no blueprint has been chosen. The path
tells the audience apart: the citizen pages answer with their Chinese page, the API with
its JSON error shape, and staff pages keep Flask's own response.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from webapp.api.views import bp as api_bp
from webapp.api.views import error_for as api_error
from webapp.citizen.views import bp as citizen_bp
from webapp.citizen.views import error_page as citizen_error


def init_app(app: Flask) -> None:
    """Register the one app-wide handler for HTTP errors."""
    app.register_error_handler(HTTPException, _by_audience)


def _under(blueprint: Blueprint) -> bool:
    prefix = blueprint.url_prefix or ""
    return bool(prefix) and (request.path == prefix or request.path.startswith(prefix + "/"))


def _by_audience(exc: HTTPException) -> ResponseReturnValue | HTTPException:
    if exc.code is None:
        return exc
    if _under(api_bp):
        return api_error(exc)
    if _under(citizen_bp):
        return citizen_error(exc)
    return exc
