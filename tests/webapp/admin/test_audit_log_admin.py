"""The audit-log page: administrators only, filtered by the query string, dates as local days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.audit import record_audit
from surveys.models import Role, User
from tests.factories import AuthActions, Tree

UTC = dt.UTC


@pytest.fixture
def late_reveals(session: Session, tree: Tree, make_user: Callable[..., User]) -> User:
    """A handler's two reveals: 23:30 on 5 December and 00:30 on 6 December, Beijing time."""
    handler = make_user(unit=tree.east_station, display_name="王警官")
    for at in (dt.datetime(2026, 12, 5, 15, 30, tzinfo=UTC), dt.datetime(2026, 12, 5, 16, 30, tzinfo=UTC)):
        record_audit(session, actor_id=handler.id, action="phone.reveal", now=at, target_type="ticket", target_id=1)
    return handler


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR])
def test_only_administrators_see_the_log(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User], role: Role
):
    auth.login(make_user(role, tree.city).username)
    assert client.get("/admin/audit").status_code == 403


def test_the_log_lists_entries_in_chinese_and_is_in_the_menu(client: FlaskClient, city_admin: User, late_reveals: User):
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<a href="/admin/audit" aria-current="page">审计日志</a>' in page
    assert page.count("查看完整号码") >= 2
    assert "王警官（" in page
    assert "2026-12-06 00:30:00" in page  # local time
    assert "系统管理员（" in page  # this login is an entry too


def test_a_date_range_is_whole_local_days(client: FlaskClient, city_admin: User, late_reveals: User):
    page = client.get("/admin/audit?action=phone.reveal&since=2026-12-05&until=2026-12-05").get_data(as_text=True)
    assert "2026-12-05 23:30:00" in page
    assert "2026-12-06 00:30:00" not in page
    assert "起始日期：2026-12-05" in page  # the filters said back


def test_filters_survive_paging(
    client: FlaskClient, city_admin: User, monkeypatch: pytest.MonkeyPatch, late_reveals: User
):
    monkeypatch.setattr("surveys.audit_log.AUDIT_PAGE_SIZE", 1)
    page = client.get("/admin/audit?action=phone.reveal").get_data(as_text=True)
    assert "第 1/2 页" in page
    assert 'href="/admin/audit?page=2&amp;action=phone.reveal"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=drop.table", "没有这种操作"),
        ("since=2026-13-01", "不是有效的日期"),
        ("since=2026-12-06&until=2026-12-05", "截止日期不能早于起始日期"),
        ("actor=%00", "操作人含有不可见的控制字符"),
        ("until=9999-12-31", None),  # the last day there is: no overflow
    ],
)
def test_a_bad_filter_is_reported_and_left_out(
    client: FlaskClient, city_admin: User, late_reveals: User, query: str, message: str | None
):
    response = client.get(f"/admin/audit?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    if message is not None:
        assert message in page
    assert page.count("查看完整号码") >= 2  # the bad filter narrowed nothing
