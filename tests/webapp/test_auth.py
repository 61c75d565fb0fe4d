"""Login, roles and CSRF on the staff pages."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys import accounts
from surveys.models import Role, User
from tests.factories import TEST_PASSWORD, AuthActions


@pytest.mark.parametrize(("role", "home"), [(Role.HANDLER, "/triage/"), (Role.SUPERVISOR, "/dashboard/")])
def test_login_goes_to_the_role_home(
    client: FlaskClient, auth: AuthActions, make_user: Callable[..., User], role, home
):
    user = make_user(role)
    response = auth.login(user.username)
    assert response.status_code == 302
    assert response.headers["Location"] == home


def test_wrong_password_is_refused(client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]):
    user = make_user()
    response = auth.login(user.username, "wrong password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/triage/").status_code == 302  # still anonymous


def test_next_parameter_cannot_redirect_off_site(client: FlaskClient, make_user: Callable[..., User]):
    user = make_user()
    response = client.post("/login?next=//evil.example/x", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/triage/"


def test_pages_require_login(client: FlaskClient):
    for path in ("/triage/", "/dashboard/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_handler_cannot_open_the_dashboard(client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]):
    auth.login(make_user(Role.HANDLER).username)
    assert client.get("/dashboard/").status_code == 403


def test_logout_ends_the_session(client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]):
    auth.login(make_user().username)
    assert client.get("/triage/").status_code == 200
    auth.logout()
    assert client.get("/triage/").status_code == 302


def test_logout_ends_copies_of_the_session_cookie_too(
    app: Flask, client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]
):
    user = make_user()
    auth.login(user.username)
    copied = client.get_cookie("session")
    assert copied is not None
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", copied.value)
    assert thief.get("/triage/").status_code == 302  # to the login page
    auth.login(user.username)  # a new login works as before
    assert client.get("/triage/").status_code == 200


def test_login_starts_a_new_session(client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]):
    with client.session_transaction() as planted:  # e.g. a cookie set before the login
        planted["csrf_token"] = "chosen-by-someone-else"
    auth.login(make_user().username)
    with client.session_transaction() as after:
        assert "csrf_token" not in after


def test_a_deactivated_account_is_checked_as_slowly_as_any_other(
    session: Session, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
):
    checked: list[str] = []
    monkeypatch.setattr(accounts, "verify_password", lambda stored, password: checked.append(password) or True)
    user = make_user()
    user.is_active = False
    assert accounts.authenticate_user(session, user.username, "whatever") is None
    assert checked == ["whatever"]  # the password hash was verified, as for an active user


def test_a_username_with_a_nul_character_is_just_unknown(client: FlaskClient):
    response = client.post("/login", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_security_headers_are_set(client: FlaskClient):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert len(response.headers.getlist(name)) == 1


def test_https_deployments_send_hsts_and_plain_http_does_not(client: FlaskClient, make_app: Callable[..., Flask]):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    https_app = make_app(SESSION_COOKIE_SECURE=True)
    assert https_app.test_client().get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_view_can_set_its_own_security_header(app: Flask):
    from flask import Response

    @app.route("/_own_frame_options")
    def own() -> Response:
        response = Response("x")
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    response = app.test_client().get("/_own_frame_options")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_staff_pages_keep_their_session_cookie(client: FlaskClient, auth: AuthActions, make_user: Callable[..., User]):
    auth.login(make_user(Role.HANDLER).username)
    assert client.get_cookie("session") is not None
    assert client.get("/triage/").status_code == 200


@pytest.fixture
def csrf_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of the app with CSRF protection on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def test_login_without_csrf_token_is_refused(csrf_client: FlaskClient, make_user: Callable[..., User]):
    user = make_user()
    response = csrf_client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 400


@pytest.fixture
def throttled_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of the app with its login limits on and small."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", LOGIN_ACCOUNT_RATE_LIMIT="2 per 15 minutes")
    return app.test_client()


def _login_from(client: FlaskClient, address: str, username: str, password: str) -> tuple[int, str]:
    response = client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    return response.status_code, response.get_data(as_text=True)


def test_logins_are_throttled_per_client(throttled_client: FlaskClient):
    for n in range(3):
        assert _login_from(throttled_client, "10.0.0.1", f"nobody{n}", "wrong-password")[0] == 200
    status, page = _login_from(throttled_client, "10.0.0.1", "nobody9", "wrong-password")
    assert status == 429
    assert "操作太频繁，请 1 分钟后再试" in page
    assert _login_from(throttled_client, "10.0.0.2", "nobody9", "wrong-password")[0] == 200


def test_a_failed_login_logs_no_username_that_names_no_account(
    client: FlaskClient, make_user: Callable[..., User], caplog: pytest.LogCaptureFixture
):
    """People type their password into the username field; the log must not keep it."""
    user = make_user()
    assert _login_from(client, "10.0.0.7", TEST_PASSWORD, TEST_PASSWORD)[0] == 200
    assert "failed login for an unknown username from 10.0.0.7" in caplog.text
    assert TEST_PASSWORD not in caplog.text
    assert _login_from(client, "10.0.0.8", user.username, "wrong-password")[0] == 200
    assert f"failed login for {user.username!r} from 10.0.0.8" in caplog.text


def test_a_login_names_the_last_one_and_the_wrong_passwords_since(
    app: Flask, client: FlaskClient, auth: AuthActions, make_user: Callable[..., User], now: dt.datetime
):
    user = make_user()
    page = auth.login(user.username)
    assert "这是您的账号第一次登录" in client.get(page.headers["Location"]).get_data(as_text=True)
    auth.logout()
    app.config["CLOCK"] = lambda: now + dt.timedelta(days=1)
    for address in ("10.0.0.8", "127.0.0.1", "10.0.0.9"):  # the user's own typo from 127.0.0.1 is no news
        assert "用户名或密码错误" in _login_from(client, address, user.username, "wrong-password")[1]
    page = client.get(auth.login(user.username).headers["Location"]).get_data(as_text=True)
    last = now.astimezone(app.config["MINYI_SETTINGS"].timezone)
    notice = f"上次登录：{last:%Y-%m-%d %H:%M}（127.0.0.1）。此后有 2 次用您的用户名但密码错误的登录尝试"
    assert f'<p class="flash flash-warning" role="status">{notice}' in page
    auth.logout()
    page = client.get(auth.login(user.username).headers["Location"]).get_data(as_text=True)
    assert '<p class="flash flash-info" role="status">上次登录：' in page
    assert "此后有" not in page


def test_failed_logins_lock_the_account_whichever_client_sends_them(
    throttled_client: FlaskClient, make_user: Callable[..., User], caplog: pytest.LogCaptureFixture
):
    target, bystander = make_user(), make_user()
    for address in ("10.0.0.1", "10.0.0.2"):
        assert _login_from(throttled_client, address, target.username, "wrong-password")[0] == 200
        assert f"failed login for {target.username!r} from {address}" in caplog.text
    status, page = _login_from(throttled_client, "10.0.0.3", target.username, TEST_PASSWORD)
    assert status == 429  # even the right password waits out the window
    assert "这个账号登录失败次数过多" in page
    assert "请 15 分钟后再试" in page
    assert _login_from(throttled_client, "10.0.0.3", bystander.username, TEST_PASSWORD)[0] == 302


def test_successful_logins_do_not_use_up_the_accounts_budget(
    throttled_client: FlaskClient, make_user: Callable[..., User]
):
    user = make_user()
    for n in range(3):
        assert _login_from(throttled_client, f"10.0.1.{n}", user.username, TEST_PASSWORD)[0] == 302
        throttled_client.post("/logout", environ_base={"REMOTE_ADDR": f"10.0.1.{n}"})


def test_requests_refused_before_the_password_check_do_not_use_up_the_account(
    throttled_client: FlaskClient, make_user: Callable[..., User]
):
    user = make_user()
    for n in range(3):  # the per-address budget, spent on other names
        _login_from(throttled_client, "10.0.0.1", f"nobody{n}", "wrong-password")
    for _ in range(3):  # refused by the address limit: the password is never checked
        assert _login_from(throttled_client, "10.0.0.1", user.username, "wrong-password")[0] == 429
    assert _login_from(throttled_client, "10.0.0.2", user.username, "wrong-password")[0] == 200
    assert _login_from(throttled_client, "10.0.0.3", user.username, TEST_PASSWORD)[0] == 302


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"username": "someone", "password": "wrong-password"}},
        {"json": {"username": 5, "password": "x"}},
        {"data": {"username": (io.BytesIO(b"someone"), "name.txt"), "password": "x"}},
    ],
)
def test_the_login_takes_form_fields_only(throttled_client: FlaskClient, body: dict[str, object]):
    assert throttled_client.post("/login", **body).status_code == 400  # type: ignore[arg-type]
