"""The live server the browser tests talk to (its own module so tests can name the type)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker


@dataclass
class LiveServer:
    """The app on a real socket, and sessions on its database for set-up and checks."""

    url: str
    session_factory: sessionmaker[Session]

    def survey_url(self, token: str, suffix: str = "") -> str:
        return f"{self.url}/s/{token}{suffix}"
