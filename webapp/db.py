"""One SQLAlchemy session per request, cached in ``g`` and closed at teardown (flaskr's get_db)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    """Build the session factory (no connection is opened) and register the teardown."""
    if "SESSION_FACTORY" not in app.config:
        engine = make_engine(app.config["MINYI_SETTINGS"].database_url)
        app.config["SESSION_FACTORY"] = make_session_factory(engine)
    app.teardown_appcontext(close_session)


def session_factory() -> sessionmaker[Session]:
    """The app's session factory."""
    factory: sessionmaker[Session] = current_app.config["SESSION_FACTORY"]
    return factory


def get_session() -> Session:
    """The request's session; views that write call ``commit()`` themselves."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session; anything uncommitted is rolled back."""
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
