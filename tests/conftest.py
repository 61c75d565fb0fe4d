"""Shared fixtures: one migrated database per run, one rolled-back transaction per test.

``TEST_DATABASE_URL`` selects PostgreSQL; the default is a SQLite file (never ``sqlite://``
in memory, where each connection would see a different empty database). The schema is
built with ``alembic upgrade head``, so every run also exercises the migrations.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import make_engine
from surveys.schema import drop_everything, upgrade
from surveys.settings import Settings, load_settings

pytest_plugins = ["tests.factories", "tests.committed"]

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)  # 14:00 in Asia/Shanghai: outside quiet hours


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PostgreSQL from TEST_DATABASE_URL, else a SQLite file for this run."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The production engine, on a schema freshly built by the migrations."""
    engine = make_engine(database_url)
    drop_everything(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions joined to the test transaction; their commits release savepoints only."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """The test's own session, in the same transaction as the app's."""
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings as a deployment would have them, with a fixed public URL."""
    return load_settings(
        {
            "MINYI_DATABASE_URL": database_url,
            "MINYI_PUBLIC_BASE_URL": "http://minyi.test",
            "MINYI_SMS_PROVIDER": "console",
        }
    )


@pytest.fixture
def now() -> dt.datetime:
    """A fixed 'now' inside the sending window."""
    return NOW


@pytest.fixture
def make_app(session_factory: sessionmaker[Session], settings: Settings) -> Callable[..., Flask]:
    """``make_app(**config)``: the app bound to the test transaction, with ``config`` on top.

    By default CSRF and rate limits are off and the clock stands at ``NOW``; a test that
    needs production behaviour turns them on.
    """
    from webapp import create_app

    def factory(**config: Any) -> Flask:
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SESSION_FACTORY": session_factory,
                "MINYI_SETTINGS": settings,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "CLOCK": lambda: NOW,
            }
            | config
        )

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app bound to the test transaction; CSRF and rate limits off unless a test turns them on."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()
