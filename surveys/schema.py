"""Schema management through Alembic (the only way the schema is built)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from surveys.db import Base

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    """Alembic config for this checkout (callers add a connection to run on)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run migrations up to ``revision`` on ``engine``."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Run migrations down to ``revision`` on ``engine``."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def drop_everything(engine: Engine) -> None:
    """Drop our tables and Alembic's version table (``minyi demo --reset``).

    Units reference their parent: SQLite's DROP TABLE deletes rows one by one with
    foreign keys enforced, so the self-references are cut first.
    """
    with engine.begin() as connection:
        if inspect(connection).has_table("units"):
            connection.execute(text("UPDATE units SET parent_id = NULL"))
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        if inspect(connection).has_table("alembic_version"):
            connection.execute(text("DROP TABLE alembic_version"))
