"""Authentication, roles, unit scoping, masking and security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort
from flask_login import LoginManager, UserMixin, current_user, login_required

from surveys.models import Role, Unit, User, mask_phone
from webapp.db import get_session

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "strong"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class StaffUser(UserMixin):
    """The logged-in staff member as Flask-Login sees it (ids and scope, not an ORM row)."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.unit_id = user.unit_id

    def get_id(self) -> str:
        return str(self.id)

    @property
    def scope_unit(self) -> Unit:
        """The root of the subtree this user may see."""
        return get_session().get_one(Unit, self.unit_id)

    def db_user(self) -> User:
        """The ORM row, for services that record who acted."""
        return get_session().get_one(User, self.id)


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    return StaffUser(user)


def current_staff() -> StaffUser:
    """The logged-in staff user (views behind ``roles_required`` only)."""
    return cast(StaffUser, current_user._get_current_object())  # type: ignore[attr-defined]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Log in first, then refuse (403) users whose role is not in ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_staff().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    return response


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the masking filter and the security headers."""
    login_manager.init_app(app)
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.after_request(_security_headers)
