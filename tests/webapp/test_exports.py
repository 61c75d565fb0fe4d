"""Spreadsheet exports: what a supervisor downloads, and no formula a citizen could plant."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.exports import TICKET_BATCH_SIZE, safe_text
from surveys.index import PRIOR_WEIGHT
from surveys.models import Case, Channel, Response, Role, Survey, Ticket, Unit, User
from surveys.models.tickets import TicketPriority
from surveys.planning import new_token
from surveys.states import SurveyStatus, TicketStatus
from surveys.triage import change_ticket_status
from tests.factories import AuthActions, Tree


def _sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("－1", "'－1"),
        ("民警态度好", "民警态度好"),
        ("1-2", "1-2"),
    ],
)
def test_safe_text_quotes_formula_triggers(text: str, expected: str):
    assert safe_text(text) == expected


def test_ticket_export_reads_as_the_queue_does(
    session: Session,
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
    now: dt.datetime,
):
    ticket = make_ticket(tree.east_station, overall=2, comment="民警收了对方的红包，我要去北京上访")
    handler = make_user(Role.HANDLER, tree.city, display_name="王办理")
    change_ticket_status(session, ticket, TicketStatus.ASSIGNED, handler, now)
    auth.login(handler.username)
    with client.get("/triage/export.xlsx") as response:
        rows = _sheet_rows(response.data)
    [row] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == ticket.id]
    assert row["案件编号"] == ticket.response.survey.case.external_no
    assert (row["优先级"], row["状态"], row["经办人"]) == ("紧急", "已分派", "王办理")
    assert (row["评价"], row["评分"]) == ("不满意", 2)


def test_ticket_export_neutralises_formulas_and_omits_phones(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    ticket = make_ticket(tree.east_station, overall=1, comment='=HYPERLINK("http://evil.example","点我") 态度差')
    auth.login(make_user(Role.HANDLER, tree.city).username)
    with client.get("/triage/export.xlsx") as response:
        assert response.status_code == 200
        rows = _sheet_rows(response.data)
    [row] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == ticket.id]
    assert row["留言"].startswith("'=HYPERLINK")
    phone = ticket.response.survey.contact.phone_e164
    assert all(phone not in str(cell) for r in rows for cell in r)


def test_index_export_matches_the_page(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station, overall=2)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    rows = _sheet_rows(client.get(f"/dashboard/export.xlsx?unit={tree.city.id}&month=2026-11").data)
    assert "2026-11-01 至 2026-11-30" in str(rows[0][0])
    assert "数据截至 2026-11-20 14:00" in str(rows[0][0])  # the current month, exported before it ends
    assert [r[0] for r in rows[1:]] == ["单位", "绍兴市公安局", "越城分局", "柯桥分局"]
    assert rows[2][6] == 1  # one answer in the whole city


@pytest.fixture
def answer_at(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey]
) -> Callable[[Unit, dt.datetime, int], None]:
    def factory(unit: Unit, answered_at: dt.datetime, overall: int) -> None:
        survey = make_survey(case=make_case(unit=unit), expires_at=answered_at + dt.timedelta(days=1))
        submit_answer(session, survey, AnswerInput(overall=overall), Channel.WEB, answered_at)

    return factory


@pytest.mark.parametrize(
    "downloaded_at", [dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 20, tzinfo=dt.UTC)]
)
def test_monthly_scorecard_is_the_last_local_calendar_month(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    answer_at: Callable[[Unit, dt.datetime, int], None],
    downloaded_at: dt.datetime,
):
    unit = make_unit(name="市局")
    answer_at(unit, dt.datetime(2026, 10, 31, 15, 0, tzinfo=dt.UTC), 5)  # 10-31 23:00 in Shanghai: October
    answer_at(unit, dt.datetime(2026, 10, 31, 17, 0, tzinfo=dt.UTC), 1)  # 11-01 01:00 in Shanghai: November
    answer_at(unit, dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC), 5)
    answer_at(unit, dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC), 5)  # 12-01 01:00 in Shanghai: December
    app.config["CLOCK"] = lambda: downloaded_at
    auth.login(make_user(Role.SUPERVISOR, unit).username)
    response = client.get("/dashboard/export.xlsx")
    assert response.status_code == 200
    rows = _sheet_rows(response.data)
    assert rows[0][0] == "市局 民意指数月考评 2026 年 11 月：统计期间 2026-11-01 至 2026-11-30（Asia/Shanghai 时间）"
    assert rows[2][0] == "市局"
    assert rows[2][6] == 2
    assert rows[2][2] == pytest.approx(50.0)
    assert "2026-11" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("path", "argument", "value", "reason"),
    [
        ("/dashboard/export.xlsx", "month", "2026-13", "月份格式"),
        ("/dashboard/export.xlsx", "month", "11/2026", "月份格式"),
        ("/dashboard/export.xlsx", "month", "2026-12", "尚未开始"),
        ("/dashboard/export.xlsx", "month", "1900-01", "不能早于"),
        ("/dashboard/bulletin.xlsx", "week", "2026-11-31", "日期格式"),
        ("/dashboard/bulletin.xlsx", "week", "2026/11/16", "日期格式"),
        ("/dashboard/bulletin.xlsx", "week", "2026-11-23", "尚未开始"),
        ("/dashboard/bulletin.xlsx", "week", "1999-12-31", "不能早于"),
    ],
)
def test_a_bad_scorecard_month_or_bulletin_week_is_refused_in_chinese(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    path: str,
    argument: str,
    value: str,
    reason: str,
):
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    response = client.get(path, query_string={argument: value})
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_scorecard_numbers_have_number_formats(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station, overall=4)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    data = client.get("/dashboard/export.xlsx?month=2026-11").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    city = sheet[3]
    assert [cell.number_format for cell in city] == ["General", "0.0", "0.0", "0.0%", "0.0%", "0.0%", "0"]
    assert city[3].value == 1  # a rate is stored as a fraction, shown as 100.0%


def test_index_export_filename_survives_a_chinese_unit_code(
    client: FlaskClient, auth: AuthActions, make_unit: Callable[..., Unit], make_user: Callable[..., User]
):
    unit = make_unit(code="越城01", name="越城分局")
    auth.login(make_user(Role.SUPERVISOR, unit).username)
    response = client.get("/dashboard/export.xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    disposition.encode("latin-1")  # a WSGI server sends headers as latin-1 (PEP 3333)
    assert "filename=minyi-index-01-2026-10.xlsx" in disposition
    assert "filename*=UTF-8''minyi-index-%E8%B6%8A%E5%9F%8E01-2026-10.xlsx" in disposition


def test_ticket_export_has_every_open_ticket(
    session: Session,
    client: FlaskClient,
    auth: AuthActions,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    now: dt.datetime,
):
    unit = make_unit(name="市局")
    template = make_case(unit=unit)
    participant = template.participants[0]
    count = 5003  # more than the 5,000 the export once stopped at
    case_ids = session.scalars(
        insert(Case).returning(Case.id),
        [
            {
                "source": "bulk",
                "external_no": f"B{i}",
                "unit_id": unit.id,
                "category": template.category,
                "closed_at": now,
            }
            for i in range(count)
        ],
    ).all()
    survey_ids = session.scalars(
        insert(Survey).returning(Survey.id),
        [
            {
                "case_id": case_id,
                "contact_id": participant.contact.id,
                "citizen_role": participant.role,
                "token": new_token(),
                "status": SurveyStatus.ANSWERED,
                "due_at": now,
                "planned_at": now,
            }
            for case_id in case_ids
        ],
    ).all()
    response_ids = session.scalars(
        insert(Response).returning(Response.id),
        [
            {
                "survey_id": survey_id,
                "unit_id": unit.id,
                "overall": 1,
                "comment": "态度差",
                "channel": Channel.WEB,
                "submitted_at": now,
            }
            for survey_id in survey_ids
        ],
    ).all()
    session.execute(
        insert(Ticket),
        [
            {
                "response_id": response_id,
                "unit_id": unit.id,
                "status": TicketStatus.NEW,
                "priority": TicketPriority.NORMAL,
                "reasons": ["差评"],
                "deadline_at": now + dt.timedelta(days=3),
            }
            for response_id in response_ids
        ],
    )
    session.flush()
    yield_per: list[object] = []  # the batch size each read of the tickets asked for
    engine = session.get_bind().engine

    def record(conn: object, cursor: object, statement: str, params: object, context: Any, many: bool) -> None:
        if "FROM tickets" in statement:
            yield_per.append(context.execution_options.get("yield_per"))

    event.listen(engine, "before_cursor_execute", record)
    auth.login(make_user(Role.SUPERVISOR, unit).username)
    try:
        with client.get("/triage/export.xlsx") as exported:
            assert exported.status_code == 200
            workbook = openpyxl.load_workbook(io.BytesIO(exported.data), read_only=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert len(rows) - 1 == count
    assert len({row[0] for row in rows[1:]}) == count
    assert yield_per == [TICKET_BATCH_SIZE]  # read in batches, never all rows at once


def test_weekly_bulletin_is_the_last_local_week_beside_the_week_before(
    client: FlaskClient,
    auth: AuthActions,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    answer_at: Callable[[Unit, dt.datetime, int], None],
):
    # now is Friday 2026-11-20 in Shanghai: the last complete week is 11-09 to 11-15
    city = make_unit(name="市局")
    falling, rising = make_unit(parent=city, name="府山派出所"), make_unit(parent=city, name="柯岩派出所")
    answer_at(falling, dt.datetime(2026, 11, 8, 15, 0, tzinfo=dt.UTC), 5)  # Sunday 23:00 in Shanghai: week before
    answer_at(falling, dt.datetime(2026, 11, 8, 17, 0, tzinfo=dt.UTC), 1)  # Monday 01:00 in Shanghai: the week
    answer_at(rising, dt.datetime(2026, 11, 3, 4, 0, tzinfo=dt.UTC), 3)
    answer_at(rising, dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC), 5)
    answer_at(rising, dt.datetime(2026, 11, 18, 4, 0, tzinfo=dt.UTC), 1)  # this week: not in the bulletin
    auth.login(make_user(Role.SUPERVISOR, city).username)
    response = client.get("/dashboard/bulletin.xlsx")
    assert response.status_code == 200
    assert "filename=minyi-bulletin-" in response.headers["Content-Disposition"]
    assert "-2026-11-09.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == (
        "市局 民意指数周通报：统计期间 2026-11-09 至 2026-11-15（Asia/Shanghai 时间），上期为 2026-11-02 至 2026-11-08"
    )
    assert rows[1] == ("单位", "民意指数", "上期指数", "变化", "原始均分", "满意率", "95%下限", "95%上限", "评价数")
    assert [r[0] for r in rows[2:]] == ["市局", "柯岩派出所", "府山派出所"]  # ranked by this week's index
    prior = 50.0  # this week's city mean, the shrinkage target of both weeks
    city_row, rising_row, falling_row = rows[2:]
    assert falling_row[8] == 1
    assert falling_row[4] == pytest.approx(0.0)
    assert falling_row[1] == pytest.approx(PRIOR_WEIGHT * prior / (1 + PRIOR_WEIGHT))
    assert falling_row[2] == pytest.approx((100 + PRIOR_WEIGHT * prior) / (1 + PRIOR_WEIGHT))
    assert falling_row[3] == pytest.approx(-100 / (1 + PRIOR_WEIGHT))
    assert rising_row[3] == pytest.approx(50 / (1 + PRIOR_WEIGHT))
    assert city_row[8] == 2
    assert [cell.number_format for cell in sheet[3]] == [
        "General", "0.0", "0.0", "+0.0;-0.0;0.0", "0.0", "0.0%", "0.0%", "0.0%", "0",
    ]  # fmt: skip


def test_the_current_weeks_bulletin_says_it_is_not_over(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    response = client.get(f"/dashboard/bulletin.xlsx?unit={tree.east.id}&week=2026-11-22")
    assert response.status_code == 200
    first_line = str(_sheet_rows(response.data)[0][0])
    assert "2026-11-16 至 2026-11-22" in first_line
    assert "本周尚未结束，数据截至 2026-11-20 14:00" in first_line


def test_bulletin_stays_in_the_users_subtree(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.east).username)
    assert client.get(f"/dashboard/bulletin.xlsx?unit={tree.west.id}").status_code == 404
    auth.login(make_user(Role.HANDLER, tree.city).username)
    assert client.get("/dashboard/bulletin.xlsx").status_code == 403
