"""Rows committed for real, for tests of races between concurrent requests.

The rest of the suite runs inside one rolled-back transaction per test, which cannot
show a race. ``committed_factory`` gives sessions on real connections, and everything
made under the test's own unit (cases, contacts, surveys, answers, messages and opt-outs
of its phone numbers) is deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.db import make_session_factory
from surveys.models import (
    AuditEntry,
    Case,
    CaseCategory,
    CaseContact,
    CitizenRole,
    Contact,
    OptOut,
    Response,
    SmsMessage,
    Survey,
    Unit,
    UnitLevel,
    User,
)
from surveys.planning import new_token
from surveys.settings import Settings
from surveys.states import SurveyStatus
from surveys.units import create_unit
from tests.conftest import NOW


@pytest.fixture
def racing_factory(engine: Engine, committed_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """``committed_factory`` on PostgreSQL; SQLite takes one writer at a time, so no race."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs one writer at a time")
    return committed_factory


def committed_app(factory: sessionmaker[Session], settings: Settings) -> Flask:
    """The app with ``factory``'s sessions: each request on a real connection of its own."""
    from webapp import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SESSION_FACTORY": factory,
            "MINYI_SETTINGS": settings,
            "RATELIMIT_ENABLED": False,
            "CLOCK": lambda: NOW,
        }
    )


@pytest.fixture
def committed_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on real connections; everything made under the test's unit is deleted after.

    That includes its staff accounts and what they audited (tickets and their events go
    with the answers).
    """
    factory = make_session_factory(engine)
    code = f"RACE{secrets.token_hex(4)}"
    factory.kw["info"] = {"unit_code": code}
    yield factory
    with factory.begin() as session:
        unit_ids = select(Unit.id).where(Unit.code == code).scalar_subquery()
        case_ids = select(Case.id).where(Case.unit_id == unit_ids).scalar_subquery()
        contact_ids = list(session.scalars(select(CaseContact.contact_id).where(CaseContact.case_id.in_(case_ids))))
        survey_ids = select(Survey.id).where(Survey.case_id.in_(case_ids)).scalar_subquery()
        phones = select(Contact.phone_e164).where(Contact.id.in_(contact_ids)).scalar_subquery()
        user_ids = select(User.id).where(User.unit_id == unit_ids).scalar_subquery()
        session.execute(delete(AuditEntry).where(AuditEntry.actor_id.in_(user_ids)))
        session.execute(delete(OptOut).where(OptOut.phone_e164.in_(phones)))
        session.execute(delete(SmsMessage).where(SmsMessage.phone_e164.in_(phones)))
        session.execute(delete(Response).where(Response.survey_id.in_(survey_ids)))
        session.execute(delete(Survey).where(Survey.case_id.in_(case_ids)))
        session.execute(delete(CaseContact).where(CaseContact.case_id.in_(case_ids)))
        session.execute(delete(Case).where(Case.unit_id == unit_ids))
        session.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
        session.execute(delete(User).where(User.unit_id == unit_ids))
        session.execute(delete(Unit).where(Unit.code == code))


def committed_survey(factory: sessionmaker[Session], status: SurveyStatus = SurveyStatus.OPENED) -> Survey:
    """A survey of a new case with a new phone number, committed; returned detached."""
    with factory.begin() as session:
        code = session.info["unit_code"]
        unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none() or create_unit(
            session, code, "并发测试派出所", UnitLevel.STATION, hotline="0575-1"
        )
        phone = f"+86139{secrets.randbelow(10**8):08d}"
        case, _ = store_case(
            session,
            CaseInput(
                source="race",
                external_no=f"{code}-{secrets.token_hex(4)}",
                unit=unit,
                category=CaseCategory.ALARM_110,
                closed_at=NOW - dt.timedelta(hours=3),
                officer_name=None,
                is_sensitive=False,
                citizens=(CitizenInput(phone, CitizenRole.REPORTER),),
            ),
        )
        participant = case.participants[0]
        survey = Survey(
            case=case,
            contact=participant.contact,
            citizen_role=participant.role,
            token=new_token(),
            status=status,
            due_at=NOW - dt.timedelta(hours=1),
            planned_at=NOW - dt.timedelta(hours=2),
            sent_at=NOW - dt.timedelta(hours=1),
            expires_at=NOW + dt.timedelta(days=7),
        )
        session.add(survey)
        case.is_planned = True
        session.flush()
        session.expunge(survey)
    return survey


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; their results, in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
