"""The citizen pages on real, committed connections: races, and PostgreSQL's autocommit path.

The rest of the suite runs inside one rolled-back transaction, which cannot show a race,
nor the production path on PostgreSQL, where the survey page runs each statement in
autocommit mode on a pooled connection instead of a session (webapp/citizen/connections.py):
here the rows are committed for real (and deleted afterwards) and each request gets its
own database connection from the app's own session factory.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.models import OptOut, Response, Survey
from surveys.settings import Settings
from surveys.states import SurveyStatus
from tests.committed import at_once, committed_app, committed_survey
from tests.conftest import NOW


def test_opening_answering_and_reopening_commit_on_real_connections(
    committed_factory: sessionmaker[Session], settings: Settings
):
    app = committed_app(committed_factory, settings)
    token = committed_survey(committed_factory, SurveyStatus.SENT).token
    client = app.test_client()

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "请您评价这次服务" in page.get_data(as_text=True)
    with committed_factory() as session:  # committed, seen from another connection
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        assert (survey.status, survey.opened_at) == (SurveyStatus.OPENED, NOW)

    assert client.get(f"/s/{token}").status_code == 200  # a second opening changes nothing
    answer = {"overall": "2", "reason": "slow_dispatch", "comment": "太慢"}
    thanks = client.post(f"/s/{token}", data=answer, follow_redirects=True)
    assert "感谢您的评价" in thanks.get_data(as_text=True)
    again = client.get(f"/s/{token}").get_data(as_text=True)
    assert "已评价" in again
    assert "太慢" in again
    with committed_factory() as session:
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        assert (survey.status, survey.opened_at, survey.answered_at) == (SurveyStatus.ANSWERED, NOW, NOW)
        response = session.scalars(select(Response).where(Response.survey_id == survey.id)).one()
        assert (response.overall, response.reasons, response.comment) == (2, ["slow_dispatch"], "太慢")
    assert client.get("/s/AAAAAAAAAAAA").status_code == 404


def test_the_relaxed_commit_of_an_opening_does_not_leak_into_the_pool(
    committed_factory: sessionmaker[Session], settings: Settings, engine: Engine
):
    """Openings commit with ``synchronous_commit`` off; answers on the same connections must not."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    app = committed_app(committed_factory, settings)
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/s/{committed_survey(committed_factory, SurveyStatus.SENT).token}").status_code == 200
    pooled = [engine.connect() for _ in range(engine.pool.checkedin() or 1)]
    try:
        for connection in pooled:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
    finally:
        for connection in pooled:
            connection.close()


@pytest.mark.parametrize("requests", [2, 8])
def test_simultaneous_submissions_store_exactly_one_answer(
    committed_factory: sessionmaker[Session], settings: Settings, requests: int
):
    app = committed_app(committed_factory, settings)
    token = committed_survey(committed_factory).token

    def submit(rating: int) -> Callable[[], tuple[int, str]]:
        client = app.test_client()

        def post() -> tuple[int, str]:
            page = client.post(f"/s/{token}", data={"overall": str(rating), "comment": f"第{rating}个"})
            return page.status_code, page.get_data(as_text=True)

        return post

    results = at_once(*(submit(1 + n % 5) for n in range(requests)))

    # One is stored and sent on to the thank-you page; the others are shown what it answered.
    assert sorted(status for status, _ in results) == [200] * (requests - 1) + [303]
    assert all("已评价" in html for status, html in results if status == 200)
    with committed_factory() as session:
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        assert session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) == 1
        assert survey.status is SurveyStatus.ANSWERED


@pytest.mark.parametrize("requests", [2, 8])
def test_simultaneous_opt_outs_all_end_on_the_confirmation(
    committed_factory: sessionmaker[Session], settings: Settings, requests: int
):
    app = committed_app(committed_factory, settings)
    token = committed_survey(committed_factory).token

    def opt_out() -> Callable[[], tuple[int, str]]:
        client = app.test_client()

        def post() -> tuple[int, str]:
            response = client.post(f"/s/{token}/optout")
            return response.status_code, response.headers.get("Location", "")

        return post

    results = at_once(*(opt_out() for _ in range(requests)))

    assert results == [(303, f"/s/{token}/optout")] * requests
    assert "您已退订" in app.test_client().get(f"/s/{token}/optout").get_data(as_text=True)
    with committed_factory() as session:
        survey = session.scalars(select(Survey).where(Survey.token == token)).one()
        listed = session.scalar(select(func.count(OptOut.id)).where(OptOut.phone_e164 == survey.contact.phone_e164))
        assert (listed, survey.status) == (1, SurveyStatus.OPTED_OUT)
