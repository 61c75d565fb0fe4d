"""POST /api/v1/cases on real connections: a case system's retry racing its first push.

Only PostgreSQL runs the two requests at the same time; each gets its own connection
from the app's session factory, and the rows are committed for real (deleted after).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.accounts import create_api_key
from surveys.models import ApiKey, Case, Contact, UnitLevel
from surveys.settings import Settings
from surveys.units import create_unit
from tests.committed import at_once, committed_app
from tests.conftest import NOW


@pytest.fixture
def api(racing_factory: sessionmaker[Session], settings: Settings) -> Iterator[tuple[Flask, str]]:
    """The app on committed connections, and an API key of its own (deleted after)."""
    with racing_factory.begin() as session:
        code = session.info["unit_code"]
        create_unit(session, code, "并发测试派出所", UnitLevel.STATION)
        key_row, key = create_api_key(session, "race", source=code.lower())
    app = committed_app(racing_factory, settings)
    yield app, key
    with racing_factory.begin() as session:
        session.execute(delete(ApiKey).where(ApiKey.id == key_row.id))


def _case(code: str, case_no: str, phone: str) -> dict[str, Any]:
    closed_at = (NOW - dt.timedelta(hours=1)).isoformat()
    return {"case_no": case_no, "unit_code": code, "category": "alarm_110", "closed_at": closed_at, "phone": phone}


def _post_at_once(app: Flask, key: str, bodies: list[dict[str, Any]]) -> list[int]:
    def post(body: dict[str, Any]) -> Callable[[], int]:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        return lambda: client.post("/api/v1/cases", json=body, headers=headers).status_code

    return at_once(*map(post, bodies))


def test_a_case_pushed_twice_at_once_is_stored_once(api: tuple[Flask, str], committed_factory: sessionmaker[Session]):
    app, key = api
    code = committed_factory.kw["info"]["unit_code"]
    for n in range(5):
        body = _case(code, f"J{n}", f"1381234{n:04d}")
        assert sorted(_post_at_once(app, key, [body, body])) == [200, 201]
    with committed_factory() as session:
        assert (
            session.scalar(select(func.count(Case.id)).where(Case.external_no.like("J%"), Case.source == code.lower()))
            == 5
        )


def test_two_cases_with_the_same_new_phone_at_once_are_both_stored(
    api: tuple[Flask, str], committed_factory: sessionmaker[Session]
):
    app, key = api
    code = committed_factory.kw["info"]["unit_code"]
    for n in range(5):
        phone = f"1391234{n:04d}"
        assert _post_at_once(app, key, [_case(code, f"A{n}", phone), _case(code, f"B{n}", phone)]) == [201, 201]
        with committed_factory() as session:
            assert session.scalar(select(func.count(Contact.id)).where(Contact.phone_e164 == f"+86{phone}")) == 1
