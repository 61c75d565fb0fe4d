"""The rate limiter's app-wide hooks: on staff pages only (webapp.extensions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

import pytest
import redis
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


def test_an_app_without_limits_keeps_them_off_when_another_app_turns_them_on(make_app: Callable[..., Flask]):
    # The browser tests' live server (limits off) runs while other tests build apps with
    # limits on; Flask-Limiter's one instance takes the last app's setting for all.
    unlimited = make_app(RATELIMIT_ENABLED=False, LOGIN_RATE_LIMIT="2 per minute").test_client()
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute").test_client()
    statuses = [unlimited.post("/login", data={"username": "nobody", "password": "x"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]
    assert [limited.post("/login", data={"username": "nobody", "password": "x"}).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A running Redis (started here, keeping nothing on disk, if the machine has none up)."""
    if not _redis_answers() and shutil.which("redis-server"):
        subprocess.run(["redis-server", "--daemonize", "yes", "--save", "", "--appendonly", "no"], check=True)  # noqa: S607
        for _ in range(50):
            if _redis_answers():
                break
            time.sleep(0.1)
    assert _redis_answers(), f"Redis not reachable at {REDIS_URL}"
    return REDIS_URL


@pytest.mark.usefixtures("limiter_store_alive")
def test_a_redis_store_keeps_the_counts_where_every_worker_sees_them(make_app: Callable[..., Flask], redis_url: str):
    """docs/operations.md: with more than one worker the counts belong in Redis, not in each process."""
    store = redis.Redis.from_url(redis_url)
    store.flushdb()  # the tests' own database number; the one extension instance keeps its first key prefix
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
    assert store.keys()  # the counts are in Redis, so another worker process counts on from them
    store.flushdb()
