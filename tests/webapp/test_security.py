"""Staff extensions' request hooks skip the citizen pages (webapp.security.init_for_staff_pages)."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from webapp.security import init_for_staff_pages


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def app(calls: list[str]) -> Flask:
    """A Flask app with a hook of its own and an extension's three hooks, added for staff pages only."""
    app = Flask(__name__)
    app.before_request(lambda: calls.append("app's own"))

    def init_extension(target: Flask) -> None:
        target.before_request(lambda: calls.append("before"))

        @target.after_request
        def after(response: Response) -> Response:
            calls.append("after")
            response.headers["X-Extension"] = "1"
            return response

        target.teardown_request(lambda _exc: calls.append("teardown"))

    init_for_staff_pages(app, init_extension)
    app.add_url_rule("/login", "login", lambda: "login")
    app.add_url_rule("/s/<token>", "survey", lambda token: f"survey {token}")
    return app


def test_the_hooks_run_on_staff_pages(app: Flask, calls: list[str]) -> None:
    response = app.test_client().get("/login")
    assert response.headers["X-Extension"] == "1"
    assert calls == ["app's own", "before", "after", "teardown"]


def test_the_hooks_pass_the_citizen_pages_by(app: Flask, calls: list[str]) -> None:
    response = app.test_client().get("/s/AAAAAAAAAAAA")
    assert response.get_data(as_text=True) == "survey AAAAAAAAAAAA"  # the response handed on
    assert "X-Extension" not in response.headers
    assert calls == ["app's own"]  # hooks registered before the extension are left alone
