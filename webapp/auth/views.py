"""Login (throttled per client and per account) and logout.

Two budgets: ``LOGIN_RATE_LIMIT`` counts every login attempt of one client address, and
``LOGIN_ACCOUNT_RATE_LIMIT`` counts the failed attempts on one account from any address,
so a guesser who spreads over many addresses still gets only a handful of tries at each
password. The price is that such a guesser can keep one account's owner out for the
window too; the window is short, and every failed login is logged with its address (and
the username, if it names an account: a password typed into that field is never logged).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as web_session
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from surveys.accounts import authenticate_user, end_sessions
from surveys.logins import LoginNotice, record_login, record_refused_login
from surveys.models import Role
from webapp.auth.forms import LoginForm
from webapp.clock import now as clock_now
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


def _account_key() -> str:
    """The per-account budget's key: the username as posted (the form caps it at 64).

    Read from the form fields, which are all the login takes (JSON bodies and files are
    refused), so the key names the account the password is checked against.
    """
    return "login-account:" + request.form.get("username", "")[:64]


def _password_refused(_response: Response) -> bool:
    """Only a password check that failed uses up a try of the account's budget.

    Not an invalid form, not a request the per-address limit or the lock itself refused:
    those never reached the account, and counting them would let one busy station
    address lock out its officers.
    """
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_password_refused,
    error_message="这个账号登录失败次数过多，为防止密码被猜测已暂时锁定",
)
def login() -> Response | str:
    """Show the form; on success go where the user was headed or to their home page."""
    if request.method == "POST" and (request.is_json or request.files):
        abort(400)  # the login page posts form fields; Flask-WTF would also read these
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        username = form.username.data or ""
        user = authenticate_user(session, username, form.password.data or "")
        if user is None:
            g.login_failed = True
            named = record_refused_login(session, username, clock_now(), request.remote_addr)
            session.commit()
            # The username only if it names an account: people type their password there.
            logged = "an unknown username" if named is None else repr(named.username)
            current_app.logger.warning("failed login for %s from %s", logged, request.remote_addr)
            flash("用户名或密码错误", "error")
        else:
            notice = record_login(session, user, clock_now(), request.remote_addr)
            session.commit()
            web_session.clear()  # nothing planted before the login (a CSRF token) outlives it
            login_user(StaffUser(user))
            flash(_notice_text(notice), "warning" if notice.refused_since else "info")
            return redirect(_safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role]))
    return render_template("auth/login.html", form=form)


def _notice_text(notice: LoginNotice) -> str:
    """上次登录… and, if any, the wrong passwords tried since, in the deployment's time zone."""
    if notice.previous_at is None:
        text = "这是您的账号第一次登录。"
    else:
        when = notice.previous_at.astimezone(current_app.config["MINYI_SETTINGS"].timezone)
        text = f"上次登录：{when:%Y-%m-%d %H:%M}"
        text += f"（{notice.previous_ip_address}）。" if notice.previous_ip_address else "。"
    if notice.refused_since:
        since = "此前" if notice.previous_at is None else "此后"
        text += f"{since}有 {notice.refused_since} 次用您的用户名但密码错误的登录尝试；"
        text += "如果不是您本人，请尽快告知管理员。"
    return text


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
