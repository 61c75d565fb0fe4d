"""Factory fixtures: each returns a function that builds a row with sensible defaults.

They only ``flush()``; the test transaction is rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.accounts import create_api_key, create_user
from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.logins import LOGIN, LOGIN_REFUSED
from surveys.models import AuditEntry, Case, CaseCategory, CitizenRole, Role, Survey, Unit, UnitLevel, User
from surveys.planning import new_token
from surveys.states import SurveyStatus
from surveys.units import create_unit

_counter = itertools.count(1)
TEST_PASSWORD = "correct horse battery"


def _next() -> int:
    return next(_counter)


@pytest.fixture
def make_unit(session: Session) -> Callable[..., Unit]:
    """``make_unit(parent=None, level=STATION, name=…, code=…)``."""

    def factory(parent: Unit | None = None, **kwargs: Any) -> Unit:
        n = _next()
        kwargs.setdefault("code", f"U{n:05d}")
        kwargs.setdefault("name", f"测试{n}派出所")
        kwargs.setdefault("level", UnitLevel.STATION if parent else UnitLevel.CITY)
        kwargs.setdefault("hotline", "0575-12345")
        return create_unit(session, parent=parent, **kwargs)

    return factory


@dataclass
class Tree:
    """City → two branches → one station each."""

    city: Unit
    east: Unit
    east_station: Unit
    west: Unit
    west_station: Unit


@pytest.fixture
def tree(make_unit: Callable[..., Unit]) -> Tree:
    city = make_unit(name="绍兴市公安局")
    east = make_unit(parent=city, name="越城分局", level=UnitLevel.BRANCH)
    west = make_unit(parent=city, name="柯桥分局", level=UnitLevel.BRANCH)
    return Tree(city, east, make_unit(parent=east, name="府山派出所"), west, make_unit(parent=west, name="柯岩派出所"))


@pytest.fixture
def make_user(session: Session, make_unit: Callable[..., Unit]) -> Callable[..., User]:
    """``make_user(role=HANDLER, unit=…)``; the password is ``TEST_PASSWORD``."""

    def factory(role: Role = Role.HANDLER, unit: Unit | None = None, **kwargs: Any) -> User:
        kwargs.setdefault("username", f"user{_next()}")
        return create_user(session, kwargs.pop("username"), TEST_PASSWORD, role, unit or make_unit(), **kwargs)

    return factory


@pytest.fixture
def make_case(session: Session, make_unit: Callable[..., Unit], now: dt.datetime) -> Callable[..., Case]:
    """``make_case(unit=…, phones=[…], closed_at=…)``: a stored closed case."""

    def factory(unit: Unit | None = None, phones: list[str] | None = None, **kwargs: Any) -> Case:
        n = _next()
        kwargs.setdefault("source", "test")
        kwargs.setdefault("external_no", f"C{n:06d}")
        kwargs.setdefault("category", CaseCategory.ALARM_110)
        kwargs.setdefault("closed_at", now - dt.timedelta(hours=3))
        kwargs.setdefault("officer_name", "李警官")
        kwargs.setdefault("is_sensitive", False)
        citizens = tuple(CitizenInput(phone, CitizenRole.REPORTER) for phone in (phones or [f"+86138{n:08d}"]))
        case, _ = store_case(session, CaseInput(unit=unit or make_unit(), citizens=citizens, **kwargs))
        return case

    return factory


@pytest.fixture
def make_survey(session: Session, make_case: Callable[..., Case], now: dt.datetime) -> Callable[..., Survey]:
    """``make_survey(status=SENT, case=…)``: a survey as if planned and sent."""

    def factory(status: SurveyStatus = SurveyStatus.SENT, case: Case | None = None, **kwargs: Any) -> Survey:
        case = case or make_case()
        participant = case.participants[0]
        kwargs.setdefault("due_at", now - dt.timedelta(minutes=5))
        kwargs.setdefault("expires_at", now + dt.timedelta(days=7))
        kwargs.setdefault("sent_at", now - dt.timedelta(minutes=5) if status is not SurveyStatus.PLANNED else None)
        survey = Survey(
            case=case,
            contact=participant.contact,
            citizen_role=participant.role,
            token=new_token(),
            status=status,
            planned_at=now - dt.timedelta(hours=1),
            **kwargs,
        )
        session.add(survey)
        case.is_planned = True
        session.flush()
        return survey

    return factory


@pytest.fixture
def api_key(session: Session) -> str:
    """A plaintext API key for the case-management source ``jwxt``."""
    _, plaintext = create_api_key(session, "test key", source="jwxt")
    return plaintext


class AuthActions:
    """Log in and out through the real login form (flaskr's ``auth`` fixture)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = TEST_PASSWORD) -> Any:
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Login helper bound to the test client."""
    return AuthActions(client)


def audit_trail(session: Session) -> list[AuditEntry]:
    """The audit entries of what staff did, oldest first: every entry but the logins (which every test makes)."""
    stmt = select(AuditEntry).where(AuditEntry.action.not_in((LOGIN, LOGIN_REFUSED))).order_by(AuditEntry.id)
    return list(session.scalars(stmt))
