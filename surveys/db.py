"""Database plumbing: declarative base, engine and session factories.

Nothing here runs at import time: callers (the web app factory, the scheduler, the CLI,
tests) build an engine from a URL and own its lifetime.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The longest provider error or status code stored. Alibaba Cloud's codes run past it
#: (``isv.DOMESTIC_NUMBER_NOT_SUPPORTED`` has 33 characters) and are cut to it where they
#: enter (``surveys.sms.base``): PostgreSQL refuses a longer value, which would stop the
#: batch recording it. Widening the columns is a table rebuild on SQLite (see
#: migrations/env.py), not worth it for the last characters of a rare code.
PROVIDER_CODE_LENGTH = 32


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type and hands back naive values; PostgreSQL converts to the
    session time zone. Storing naive UTC and re-attaching UTC on load gives the same
    aware value everywhere, and refusing naive input catches local-time bugs early.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Store as naive UTC; refuse naive input."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Re-attach UTC to what the database returns."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint (stable Alembic diffs)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _install_sqlite_fixes(engine: Engine) -> None:
    """Make pysqlite behave transactionally, enforce foreign keys and wait for locks.

    pysqlite's legacy transaction handling defers BEGIN and breaks SAVEPOINT (the
    SQLAlchemy docs' "Serializable isolation / Savepoints / Transactional DDL" recipe),
    which the test suite's rollback-per-test isolation relies on.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and
        # then writes fails at once with "database is locked" when another connection
        # wrote in between (busy_timeout cannot help a stale WAL snapshot); waiting for
        # the lock at BEGIN serialises writers instead, which suits the embedded default.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build the production engine for ``url`` (tests use this one too).

    No ``pool_pre_ping``: it costs a round trip on every request, a third of the survey
    page's database time. Connections are recycled hourly instead, and one that died with a
    database restart fails a single request and is then discarded by the pool.
    """
    kwargs.setdefault("pool_recycle", 3600)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _install_sqlite_fixes(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A StrEnum stored as its string value with a named CHECK constraint (portable)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> dt.datetime:
    """The current aware UTC time (the only clock read outside explicit ``now`` params)."""
    return dt.datetime.now(dt.UTC)
