"""Alembic environment: metadata from surveys.models, URL from settings or the caller.

Callers that already hold a connection (the test suite, ``minyi demo``) pass it in
``config.attributes["connection"]`` so migrations run inside their transaction.

On SQLite, foreign keys are enforced during migrations too (``surveys.db``), so a batch
operation that rebuilds a table (changing a column's type, dropping a column) drops the
old table, and ``ON DELETE CASCADE`` deletes the rows of its children with it: rebuilding
``surveys`` would delete every answer. Adding columns and indexes does not rebuild. A
migration that must rebuild a parent table has to run with foreign keys off.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

import surveys.models  # noqa: F401  (registers every table on Base.metadata)
from surveys.db import Base, make_engine
from surveys.settings import load_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=load_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the caller's connection, or a fresh engine from settings."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(load_settings().database_url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
