"""The rate limiter's app-wide hooks: on staff pages only (webapp.extensions)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

UNKNOWN_LINK = "/s/AAAAAAAAAAAA"


@pytest.fixture
def limited_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """An app whose every page would allow two requests a minute, if the limiter applied it."""
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_DEFAULT="2 per minute",
        RATELIMIT_KEY_PREFIX="test-extensions",
    )
    return app.test_client()


def test_staff_pages_get_the_app_wide_limit_and_its_headers(limited_client: FlaskClient):
    first = limited_client.get("/login")
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert limited_client.get("/login").status_code == 200
    assert limited_client.get("/login").status_code == 429


def test_citizen_pages_pass_the_limiters_hooks_by(limited_client: FlaskClient):
    # Three lookups of an unknown link: within the guessing budget (10 a minute), over the
    # app-wide 2 a minute, which the citizen pages do not count.
    responses = [limited_client.get(UNKNOWN_LINK) for _ in range(3)]
    assert [response.status_code for response in responses] == [404, 404, 404]
    assert not any(name.startswith("X-RateLimit") for response in responses for name, _ in response.headers)
    # The hooks still run for the staff pages after it.
    assert limited_client.get("/login").headers["X-RateLimit-Remaining"] == "1"
