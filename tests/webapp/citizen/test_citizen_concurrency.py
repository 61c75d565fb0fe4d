"""Simultaneous submissions of one survey, each on its own connection, store exactly one answer.

The rest of the suite runs inside one rolled-back transaction, which cannot show a race:
here the rows are committed for real (and deleted afterwards) and each thread's request
gets its own database connection from the app's own session factory.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.db import make_session_factory
from surveys.models import Case, CaseCategory, CaseContact, CitizenRole, Contact, Response, Survey, Unit, UnitLevel
from surveys.planning import new_token
from surveys.settings import Settings
from surveys.states import SurveyStatus
from surveys.units import create_unit
from tests.conftest import NOW


@pytest.fixture
def committed_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on real connections; everything made under the test's unit is deleted after."""
    factory = make_session_factory(engine)
    code = f"RACE{secrets.token_hex(4)}"
    factory.kw["info"] = {"unit_code": code}
    yield factory
    with factory.begin() as session:
        unit_ids = select(Unit.id).where(Unit.code == code).scalar_subquery()
        case_ids = select(Case.id).where(Case.unit_id == unit_ids).scalar_subquery()
        contact_ids = list(session.scalars(select(CaseContact.contact_id).where(CaseContact.case_id.in_(case_ids))))
        survey_ids = select(Survey.id).where(Survey.case_id.in_(case_ids)).scalar_subquery()
        session.execute(delete(Response).where(Response.survey_id.in_(survey_ids)))
        session.execute(delete(Survey).where(Survey.case_id.in_(case_ids)))
        session.execute(delete(CaseContact).where(CaseContact.case_id.in_(case_ids)))
        session.execute(delete(Case).where(Case.unit_id == unit_ids))
        session.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
        session.execute(delete(Unit).where(Unit.code == code))


def _committed_survey(factory: sessionmaker[Session]) -> str:
    with factory.begin() as session:
        code = session.info["unit_code"]
        unit = create_unit(session, code, "并发测试派出所", UnitLevel.STATION, hotline="0575-1")
        phone = f"+86139{secrets.randbelow(10**8):08d}"
        case, _ = store_case(
            session,
            CaseInput(
                source="race",
                external_no=code,
                unit=unit,
                category=CaseCategory.ALARM_110,
                closed_at=NOW - dt.timedelta(hours=3),
                officer_name=None,
                is_sensitive=False,
                citizens=(CitizenInput(phone, CitizenRole.REPORTER),),
            ),
        )
        participant = case.participants[0]
        token = new_token()
        session.add(
            Survey(
                case=case,
                contact=participant.contact,
                citizen_role=participant.role,
                token=token,
                status=SurveyStatus.OPENED,
                due_at=NOW - dt.timedelta(hours=1),
                planned_at=NOW - dt.timedelta(hours=2),
                sent_at=NOW - dt.timedelta(hours=1),
                expires_at=NOW + dt.timedelta(days=7),
            )
        )
        case.is_planned = True
    return token


@pytest.mark.parametrize("requests", [2, 8])
def test_simultaneous_submissions_store_exactly_one_answer(
    committed_factory: sessionmaker[Session], settings: Settings, requests: int
):
    from webapp import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SESSION_FACTORY": committed_factory,
            "MINYI_SETTINGS": settings,
            "RATELIMIT_ENABLED": False,
            "CLOCK": lambda: NOW,
        }
    )
    token = _committed_survey(committed_factory)
    start = threading.Barrier(requests)

    def submit(rating: int) -> tuple[int, str]:
        client = app.test_client()
        start.wait(timeout=10)
        page = client.post(f"/s/{token}", data={"overall": str(rating), "comment": f"第{rating}个"})
        return page.status_code, page.get_data(as_text=True)

    with ThreadPoolExecutor(requests) as pool:
        results = list(pool.map(submit, [1 + n % 5 for n in range(requests)]))

    assert [status for status, _ in results] == [200] * requests
    pages = sorted(
        "感谢您的评价" if "感谢您的评价" in html else "已评价" if "已评价" in html else html for _, html in results
    )
    assert pages == ["已评价"] * (requests - 1) + ["感谢您的评价"]
    with committed_factory() as session:
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        assert session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) == 1
        assert survey.status is SurveyStatus.ANSWERED
