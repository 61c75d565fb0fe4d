"""Login (throttled per client) and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as web_session
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from surveys.accounts import authenticate_user, end_sessions
from surveys.models import Role
from webapp.auth.forms import LoginForm
from webapp.db import get_session
from webapp.extensions import limiter
from webapp.security import StaffUser, current_staff

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {Role.HANDLER: "triage.queue", Role.SUPERVISOR: "dashboard.index", Role.ADMIN: "dashboard.index"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> Response | str:
    """Show the form; on success go where the user was headed or to their home page."""
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = authenticate_user(session, form.username.data or "", form.password.data or "")
        if user is None:
            flash("用户名或密码错误", "error")
        else:
            session.commit()
            web_session.clear()  # nothing planted before the login (a CSRF token) outlives it
            login_user(StaffUser(user))
            return redirect(_safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role]))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST with CSRF token, so a link elsewhere cannot log you out).

    Every session of the user ends, on this browser and any other: the session cookie
    is signed, not stored, so a copy of it stays valid until its epoch moves on.
    """
    if current_user.is_authenticated:
        end_sessions(current_staff().db_user())
        get_session().commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/")
def home() -> Response:
    """The root sends staff to log in; citizens arrive with their /s/ link."""
    return redirect(url_for("auth.login"))
