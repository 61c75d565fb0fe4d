"""The citizen pages' connection: one statement per transaction on PostgreSQL, the session on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Connection, Engine

from webapp.db import get_session, session_factory


def _autocommit_engine() -> Engine | None:
    """The app's PostgreSQL engine in autocommit mode, or None (SQLite, or a test's connection).

    The survey page's statements are each a transaction of their own (one data-modifying
    CTE each), so they need no BEGIN or COMMIT round trip and no ORM session. The derived
    engine shares the app's connection pool.
    """
    factory = session_factory()
    cached: tuple[object, Engine | None] | None = current_app.extensions.get("citizen_autocommit_engine")
    if cached is None or cached[0] is not factory:
        bind = factory.kw.get("bind")
        engine = None
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            engine = bind.execution_options(isolation_level="AUTOCOMMIT")
        cached = current_app.extensions["citizen_autocommit_engine"] = (factory, engine)
    return cached[1]


@contextmanager
def postgresql_connection() -> Iterator[Connection | None]:
    """A connection for the one-statement PostgreSQL path, or None on SQLite.

    In production an autocommit connection of the pool; under a session bound to an
    outer connection (the tests' rolled-back transaction) the session's own connection,
    committed (a savepoint released) on a clean exit.
    """
    engine = _autocommit_engine()
    if engine is not None:
        with engine.connect() as connection:
            yield connection
        return
    session = get_session()
    if session.get_bind().dialect.name != "postgresql":
        yield None
        return
    yield session.connection()
    session.commit()
