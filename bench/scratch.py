"""A scratch PostgreSQL database for a benchmark: created beside a given one, dropped after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_database(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database beside ``base_url``'s, built by the migrations, dropped after."""
    from sqlalchemy import create_engine, make_url, text

    from surveys.db import make_engine
    from surveys.schema import upgrade

    url = make_url(base_url)
    if url.get_backend_name() != "postgresql":
        raise SystemExit("the benchmarks measure PostgreSQL: set MINYI_DATABASE_URL=postgresql+psycopg://…")
    name = f"{url.database}_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(scratch)
        upgrade(engine)
        engine.dispose()
        yield scratch
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
