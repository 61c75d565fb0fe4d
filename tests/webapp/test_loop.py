"""The whole loop through public interfaces: case → SMS → answer → NLP → ticket → index."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.answers import AnswerInput, submit_answer
from surveys.index import compute_unit_indices
from surveys.jobs import JobContext, run_all_jobs
from surveys.models import Analysis, Channel, Role, Survey, Ticket, Unit, User
from surveys.settings import Settings
from surveys.sms.console import ConsoleSmsProvider
from surveys.states import SurveyStatus, TicketStatus
from tests.factories import AuthActions


def test_case_to_ticket_and_index(
    client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    api_key: str,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    make_survey: Callable[..., Survey],
    auth: AuthActions,
    now: dt.datetime,
) -> None:
    city = make_unit(name="绍兴市公安局")
    station = make_unit(parent=city, code="330601", name="府山派出所")
    handler = make_user(Role.HANDLER, city)
    earlier = make_survey(case=None)
    earlier.case.unit = station
    submit_answer(
        session, earlier, AnswerInput(overall=5, comment="民警很耐心"), Channel.WEB, now - dt.timedelta(days=1)
    )
    session.commit()
    window = (now - dt.timedelta(days=30), now + dt.timedelta(days=1))
    [index_before] = compute_unit_indices(session, [station], *window)

    closed_at = (now - dt.timedelta(hours=3)).astimezone(settings.timezone).isoformat()
    created = client.post(
        "/api/v1/cases",
        json={
            "case_no": "J2026112000001",
            "unit_code": "330601",
            "category": "alarm_110",
            "closed_at": closed_at,
            "phone": "13812345678",
            "officer_name": "王警官",
        },
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert created.status_code == 201, created.get_json()

    ctx = JobContext(session_factory=session_factory, provider=ConsoleSmsProvider(), settings=settings)
    outcome = run_all_jobs(ctx, now)
    assert outcome["dispatch_due_surveys"].sent == 1

    assert auth.login(make_user(Role.ADMIN, city).username).status_code == 302  # the outbox is theirs
    outbox = client.get("/dev/outbox").get_data(as_text=True)
    auth.logout()
    match = re.search(r"http://minyi\.test/s/([A-Za-z0-9_-]+)", outbox)
    assert match, outbox
    assert "府山派出所" in outbox
    assert "回TD退订" in outbox
    assert "138****5678" in outbox
    token = match.group(1)

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "非常不满意" in page.get_data(as_text=True)
    answer = {"overall": "1", "comment": "民警态度恶劣，出警太慢了"}
    answered = client.post(f"/s/{token}", data=answer, follow_redirects=True)
    assert answered.status_code == 200
    assert "感谢您的评价" in answered.get_data(as_text=True)

    run_all_jobs(ctx, now + dt.timedelta(minutes=1))

    survey = session.scalars(select(Survey).where(Survey.token == token)).one()
    assert survey.status is SurveyStatus.ANSWERED
    analysis = session.scalars(select(Analysis).where(Analysis.response_id == survey.response.id)).one()
    assert analysis.sentiment_label == "negative"
    assert {"服务态度", "出警速度"} <= set(analysis.categories)
    assert analysis.model_version
    ticket = session.scalars(select(Ticket).where(Ticket.response_id == survey.response.id)).one()
    assert ticket.status is TicketStatus.NEW
    assert ticket.unit_id == station.id

    assert auth.login(handler.username).status_code == 302
    queue = client.get("/triage/").get_data(as_text=True)
    assert f"#{ticket.id}" in queue
    assert "民警态度恶劣" in queue

    [index_after] = compute_unit_indices(session, [station], *window)
    assert index_after.responses == index_before.responses + 1
    assert index_before.raw_index is not None
    assert index_after.raw_index is not None
    assert index_after.raw_index < index_before.raw_index
