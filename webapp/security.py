"""Authentication, roles, unit scoping, masking and security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, Response, abort, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin, current_user, login_required

from surveys.models import Role, Unit, User, mask_numbers_in_text, mask_phone
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

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
    # Pages show citizens' comments and, on request, a phone number: no browser or proxy
    # cache keeps them after logout. Static files and downloads set their own.
    ("Cache-Control", "no-store"),
)
#: Sent only where the deployment says it is served over HTTPS (``SESSION_COOKIE_SECURE``):
#: browsers then refuse plain HTTP to this host for a year, so no one on the way can strip
#: TLS from a later visit. On plain HTTP (the embedded default) it would be ignored at best.
HSTS_HEADER = ("Strict-Transport-Security", "max-age=31536000")

#: Paths of the citizen pages (``webapp.citizen``): no session, no cookie, no staff hooks.
CITIZEN_PATH_PREFIX = "/s/"


def is_citizen_path(path: str) -> bool:
    """True for the citizen survey pages, decided from the path alone (before routing)."""
    return path.startswith(CITIZEN_PATH_PREFIX)


class StaffSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except on the citizen pages.

    The citizen pages never use a session (the token in the URL is their only credential,
    see docs/survey.md), so there the cookie is neither read nor written: ``open_session``
    returns ``None``, Flask substitutes its read-only null session and skips
    ``save_session``. Staff pages keep the signed session (logins, CSRF tokens).
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if is_citizen_path(request.path):
            return None
        return super().open_session(app, request)


class StaffUser(UserMixin):
    """The logged-in staff member as Flask-Login sees it (ids and scope, not an ORM row)."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.unit_id = user.unit_id
        self.session_epoch = user.session_epoch

    def get_id(self) -> str:
        """What the session cookie stores: the user and the epoch it was issued in."""
        return f"{self.id}.{self.session_epoch}"

    @property
    def scope_unit(self) -> Unit:
        """The root of the subtree this user may see."""
        return get_session().get_one(Unit, self.unit_id)

    def db_user(self) -> User:
        """The ORM row, for services that record who acted."""
        return get_session().get_one(User, self.id)


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None  # includes the plain ids of sessions issued before epochs
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
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


def _security_headers_adder(security_headers: tuple[tuple[str, str], ...]) -> Callable[[Response], Response]:
    """An ``after_request`` hook adding each of ``security_headers`` the view has not set."""
    keys = frozenset(name.lower() for name, _ in security_headers)

    def add_security_headers(response: Response) -> Response:
        """One pass over the response's headers: the survey page is on a hot path."""
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(keys):
            headers.extend(security_headers)
        else:
            headers.extend([item for item in security_headers if item[0].lower() not in present])
        return response

    return add_security_headers


def init_for_staff_pages(app: Flask, init_extension: Callable[[Flask], None]) -> None:
    """``init_extension(app)``, the app-wide request hooks it registers skipped on the citizen pages.

    Extensions for staff (logins, CSRF tokens, the rate limiter's decorators) hook every
    request of the app, and a hook that finds nothing to do on a citizen page still costs
    it CPU on the hottest path. The hooks an extension adds to the app's before-, after-
    and teardown lists are wrapped to pass the citizen pages by, decided from the path.
    """
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    existing = [list(registry.get(None, ())) for registry in registries]
    init_extension(app)
    for registry, old in zip(registries, existing, strict=True):
        registry[None] = [hook if hook in old else _on_staff_pages_only(hook) for hook in registry.get(None, ())]


def _on_staff_pages_only(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook``, skipped on the citizen pages.

    Skipped, it hands its first argument back: an after-request hook's response goes on
    unchanged, and what a before-request hook returns when it has nothing to say (None)
    or a teardown hook returns is ignored.
    """

    @wraps(hook)
    def on_staff_pages(*args: Any) -> Any:
        if is_citizen_path(request.path):
            return args[0] if args else None
        return hook(*args)

    return on_staff_pages


def init_sessions(app: Flask) -> None:
    """Use the staff-only session interface (before extensions that look at sessions)."""
    app.session_interface = StaffSessionInterface()


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the masking filters and the security headers."""
    init_for_staff_pages(app, login_manager.init_app)
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_numbers"] = mask_numbers_in_text
    https = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.after_request(_security_headers_adder((*SECURITY_HEADERS, HSTS_HEADER) if https else SECURITY_HEADERS))
