"""The supervisor dashboard: index by unit, drill-down inside the user's scope."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.index import DROP_ALERT_MIN_RESPONSES
from surveys.models import Case, Channel, Role, Survey, Ticket, Unit, User
from tests.factories import AuthActions, Tree


def test_dashboard_ranks_children_and_drills_down(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station, overall=1)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "越城分局" in page
    assert "柯桥分局" in page
    drilled = client.get(f"/dashboard/?unit={tree.east.id}&days=90").get_data(as_text=True)
    assert "府山派出所" in drilled
    assert "柯岩派出所" not in drilled


def test_the_open_tickets_figure_links_to_the_queue_of_the_unit_shown(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station)
    make_ticket(tree.west_station)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    link = r'<span class="label">未办结工单</span><span class="value"><a href="([^"]+)">(\d+)</a>'
    assert re.findall(link, client.get("/dashboard/").get_data(as_text=True)) == [("/triage/", "2")]
    drilled = client.get(f"/dashboard/?unit={tree.east.id}").get_data(as_text=True)
    assert re.findall(link, drilled) == [(f"/triage/?unit={tree.east.id}", "1")]
    queue = client.get(f"/triage/?unit={tree.east.id}").get_data(as_text=True)
    assert '<h1>待办工单 <span class="count">1</span></h1>' in queue


def test_dashboard_shows_complaint_themes(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    for _ in range(3):
        make_ticket(tree.east_station, overall=1, comment="执法记录仪没有打开，民警态度很差")
    make_ticket(tree.west_station, overall=2, comment="户籍窗口排队太久")
    auth.login(make_user(Role.SUPERVISOR, tree.east).username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "记录仪" in page
    assert "× 3" in page  # three citizens raised the same complaint
    assert "户籍" not in page  # outside this supervisor's subtree


def test_supervisor_cannot_leave_their_subtree(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.east).username)
    assert client.get(f"/dashboard/?unit={tree.west.id}").status_code == 404
    assert client.get(f"/dashboard/?unit={tree.city.id}").status_code == 404
    assert client.get(f"/dashboard/?unit={tree.east_station.id}").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/export.xlsx", "/dashboard/bulletin.xlsx"])
@pytest.mark.parametrize("unit", ["99999999999999999999", "2147483648", "0", "-1", "abc", "１２", "1e3"])
def test_a_unit_argument_that_is_no_id_is_an_unknown_unit(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User], path: str, unit: str
):
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    response = client.get(path, query_string={"unit": unit})
    assert response.status_code == 404
    assert "不在您的权限范围内" in response.get_data(as_text=True)


def test_staff_errors_are_chinese_pages_in_the_staff_layout(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.east).username)
    refused = client.get(f"/dashboard/?unit={tree.west.id}")
    assert refused.status_code == 404
    page = refused.get_data(as_text=True)
    assert "不在您的权限范围内" in page
    assert "Not Found" not in page
    assert "民意 · 群众满意度感知" in page  # the staff layout, with the user's navigation
    assert refused.mimetype == "text/html"
    not_allowed = client.post("/dashboard/")
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed.headers["Allow"]
    assert "不支持该操作" in not_allowed.get_data(as_text=True)
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    assert "页面不存在" in unknown.get_data(as_text=True)
    bad_days = client.get(f"/dashboard/?unit={tree.east.id}&days=abc")
    assert bad_days.status_code == 400
    assert "统计周期" in bad_days.get_data(as_text=True)


def test_a_forbidden_staff_page_is_explained_in_chinese(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.HANDLER, tree.city).username)
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)


def test_api_and_citizen_pages_keep_their_own_errors(client: FlaskClient):
    api = client.get("/api/v1/no-such-resource")
    assert api.status_code == 404
    assert api.is_json
    citizen = client.get("/s/no/such/link")
    assert citizen.status_code == 404
    assert "链接无效" in citizen.get_data(as_text=True)
    assert "页面不存在" not in citizen.get_data(as_text=True)


def _queries_for(session: Session, client: FlaskClient, path: str) -> int:
    engine = session.get_bind().engine
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_dashboard_queries_do_not_grow_with_children(
    session: Session,
    client: FlaskClient,
    auth: AuthActions,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    city = make_unit(name="市局")
    auth.login(make_user(Role.SUPERVISOR, city).username)
    branch = make_unit(parent=city)
    make_ticket(make_unit(parent=branch), overall=2)
    with_one_child = _queries_for(session, client, f"/dashboard/?unit={city.id}")
    for _ in range(9):
        make_unit(parent=make_unit(parent=city))
    assert _queries_for(session, client, f"/dashboard/?unit={city.id}") == with_one_child


def test_every_ranking_row_links_to_its_units_dashboard(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    branch_page = client.get(f"/dashboard/?unit={tree.east.id}&days=7").get_data(as_text=True)
    assert f'href="/dashboard/?unit={tree.east_station.id}&amp;days=7">府山派出所</a>' in branch_page
    city_page = client.get("/dashboard/").get_data(as_text=True)
    assert f'href="/dashboard/?unit={tree.east.id}&amp;days=30">越城分局</a>' in city_page
    station_page = client.get(f"/dashboard/?unit={tree.east_station.id}")
    assert station_page.status_code == 200


def test_a_week_without_answers_draws_no_bar(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[..., Ticket],
):
    make_ticket(tree.east_station, overall=1)  # this week: one 非常不满意, index 0
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    page = client.get("/dashboard/").get_data(as_text=True)
    weeks = re.findall(r"<li><span class=\"week\">.*?</li>", page, flags=re.DOTALL)
    assert len(weeks) == 12
    assert all("<meter" not in week and ">—</span>" in week for week in weeks[:-1])
    assert 'value="0.0"' in weeks[-1]
    assert ">0.0</span>" in weeks[-1]


def test_last_days_are_whole_local_days(
    session: Session,
    client: FlaskClient,
    auth: AuthActions,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
):
    # now is 2026-11-20 14:00 in Shanghai: "近 7 天" are 11-14 00:00 to now there
    unit = make_unit(name="市局")
    for answered_at in (
        dt.datetime(2026, 11, 13, 15, 30, tzinfo=dt.UTC),  # 11-13 23:30 in Shanghai: outside
        dt.datetime(2026, 11, 13, 16, 30, tzinfo=dt.UTC),  # 11-14 00:30 in Shanghai: inside
    ):
        survey = make_survey(case=make_case(unit=unit), expires_at=answered_at + dt.timedelta(days=1))
        submit_answer(session, survey, AnswerInput(overall=5), Channel.WEB, answered_at)
    auth.login(make_user(Role.SUPERVISOR, unit).username)
    page = client.get("/dashboard/?days=7").get_data(as_text=True)
    assert re.search(r'有效评价</span><span class="value">1<', page)
    assert "2026-11-14 至 2026-11-20" in page


@pytest.fixture
def answers_at(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey]
) -> Callable[[Unit, dt.datetime, int, int], None]:
    """``answers_at(unit, answered_at, overall, count)``: ``count`` answers rated ``overall``."""

    def factory(unit: Unit, answered_at: dt.datetime, overall: int, count: int) -> None:
        for _ in range(count):
            survey = make_survey(case=make_case(unit=unit), expires_at=answered_at + dt.timedelta(days=1))
            submit_answer(session, survey, AnswerInput(overall=overall), Channel.WEB, answered_at)

    return factory


def _alerts(page: str) -> str:
    found = re.search(r'<section class="card alerts".*?</section>', page, flags=re.DOTALL)
    return found[0] if found else ""


def test_dashboard_alerts_children_whose_index_dropped(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    answers_at: Callable[[Unit, dt.datetime, int, int], None],
):
    # now is 2026-11-20 14:00 in Shanghai: 近 7 天 are 11-14 to 11-20, the period before 11-07 to 11-13
    before, recent = dt.datetime(2026, 11, 10, 4, tzinfo=dt.UTC), dt.datetime(2026, 11, 18, 4, tzinfo=dt.UTC)
    answers_at(tree.east_station, before, 5, DROP_ALERT_MIN_RESPONSES)
    answers_at(tree.east_station, recent, 2, DROP_ALERT_MIN_RESPONSES)  # the east branch falls
    answers_at(tree.west_station, before, 5, DROP_ALERT_MIN_RESPONSES)
    answers_at(tree.west_station, recent, 5, DROP_ALERT_MIN_RESPONSES)  # the west branch holds
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    alerts = _alerts(client.get("/dashboard/?days=7").get_data(as_text=True))
    assert "指数下降提醒" in alerts
    assert f'<a href="/dashboard/?unit={tree.east.id}&amp;days=7">越城分局</a>：' in alerts
    # both periods shrunk toward this period's city mean, (25·10 + 100·10) / 20 = 62.5
    assert "：75.0 → 50.0（-25.0）" in alerts
    assert "柯桥分局" not in alerts
    assert "2026-11-07 至 2026-11-13" in alerts
    assert f"至少有 {DROP_ALERT_MIN_RESPONSES} 条评价" in alerts
    # over 30 days both halves of the east branch's answers are in the current period: no drop
    assert _alerts(client.get("/dashboard/?days=30").get_data(as_text=True)) == ""


def test_a_drop_on_few_answers_is_not_alerted(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    answers_at: Callable[[Unit, dt.datetime, int, int], None],
):
    answers_at(tree.east_station, dt.datetime(2026, 11, 10, 4, tzinfo=dt.UTC), 5, DROP_ALERT_MIN_RESPONSES)
    answers_at(tree.east_station, dt.datetime(2026, 11, 18, 4, tzinfo=dt.UTC), 1, DROP_ALERT_MIN_RESPONSES - 1)
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    page = client.get("/dashboard/?days=7").get_data(as_text=True)
    assert "越城分局" in page
    assert "指数下降提醒" not in page


def test_dashboard_offers_both_exports(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    page = client.get(f"/dashboard/?unit={tree.east.id}").get_data(as_text=True)
    assert 'action="/dashboard/export.xlsx"' in page
    assert 'name="month" value="2026-10"' in page
    assert 'action="/dashboard/bulletin.xlsx"' in page
    assert 'name="week" value="2026-11-09" max="2026-11-20"' in page  # the last complete week
