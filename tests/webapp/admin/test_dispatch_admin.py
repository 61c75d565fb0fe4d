"""The dispatch administration pages: policy per deployment and per unit, costs, and problem surveys."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Case, DispatchPolicy, Role, Survey, User
from surveys.states import SurveyStatus
from tests.factories import AuthActions, Tree

POLICY_FORM = {
    "delay_minutes": "",
    "quiet_hours_start": "",
    "quiet_hours_end": "",
    "frequency_cap_days": "",
    "sampling_percent": "",
    "reminder_after_hours": "",
    "expiry_days": "",
    "survey_template": "",
    "reminder_template": "",
}


def ticked(page: str, name: str) -> set[str]:
    """The values of the ticked checkboxes called ``name`` on ``page``."""
    tags = [tag for tag in re.findall(r"<input\b[^>]*>", page) if f'name="{name}"' in tag and " checked" in tag]
    return {value for tag in tags for value in re.findall(r'value="([^"]*)"', tag)}


def policy_of(session: Session, unit_id: int | None) -> DispatchPolicy | None:
    condition = DispatchPolicy.unit_id.is_(None) if unit_id is None else DispatchPolicy.unit_id == unit_id
    return session.scalars(select(DispatchPolicy).where(condition)).one_or_none()


def test_only_administrators_see_the_pages(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    assert client.get("/admin/dispatch").status_code == 302  # to the login page
    auth.login(make_user(Role.SUPERVISOR, tree.city).username)
    assert client.get("/admin/dispatch").status_code == 403
    assert client.post("/admin/dispatch/policy", data=POLICY_FORM).status_code == 403


def test_the_overview_shows_the_rules_counts_and_warns_about_long_texts(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
):
    make_survey(SurveyStatus.SENT, case=make_case(unit=tree.east_station))
    make_survey(SurveyStatus.SKIPPED, case=make_case(unit=tree.west_station), skip_reason="frequency_cap")
    auth.login(make_user(Role.ADMIN, tree.city).username)
    page = client.get("/admin/dispatch").get_data(as_text=True)
    assert '<td>已发送</td><td class="num">1</td>' in page
    assert "近期已回访过该号码" in page
    assert "结案后 120 分钟" in page
    assert "21:00–08:00" in page
    assert "30 天内只回访一次" in page
    assert "超过一条短信（70 字）" in page  # the default texts invite replies and need two segments
    assert tree.east_station.name in page


def test_an_administrator_changes_the_deployment_policy(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.city).username)
    form = POLICY_FORM | {
        "delay_minutes": "60",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:30",
        "override_categories": "y",
        "excluded_categories": ["criminal", "mediation"],
        "survey_template": "请评价：{link} 回TD退订",
    }
    response = client.post("/admin/dispatch/policy", data=form)
    assert response.status_code == 302
    row = policy_of(session, None)
    assert row is not None
    assert (row.delay_minutes, row.quiet_hours_start, row.quiet_hours_end) == (60, dt.time(22), dt.time(7, 30))
    assert row.excluded_categories == ["criminal", "mediation"]
    assert (row.sampling_percent, row.reminder_template) == (None, None)
    page = client.get("/admin/dispatch").get_data(as_text=True)
    assert "结案后 60 分钟" in page
    assert "22:00–07:30" in page
    assert "刑事案件" in page
    form_page = client.get("/admin/dispatch/policy").get_data(as_text=True)
    assert 'value="60"' in form_page
    assert ticked(form_page, "override_categories") == {"y"}
    assert ticked(form_page, "excluded_categories") == {"criminal", "mediation"}
    assert "请评价：{link} 回TD退订" in form_page


def test_invalid_values_are_explained_and_nothing_is_saved(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.city).username)
    form = POLICY_FORM | {"sampling_percent": "150", "quiet_hours_start": "22:00", "survey_template": "请评价"}
    response = client.post("/admin/dispatch/policy", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "抽样比例（%）应在 0 到 100 之间" in page
    assert "免打扰时段的开始和结束时间要么都填" in page
    assert "模板必须包含评价链接 {link}" in page
    assert policy_of(session, None) is None


def test_a_nul_in_a_template_or_a_number_that_is_no_number_is_explained_in_chinese(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.city).username)
    nul = client.post("/admin/dispatch/policy", data=POLICY_FORM | {"survey_template": "请评价 {link} 回TD退订\x00"})
    assert nul.status_code == 400
    assert "模板中有不可见的控制字符" in nul.get_data(as_text=True)
    letters = client.post("/admin/dispatch/policy", data=POLICY_FORM | {"delay_minutes": "abc"})
    assert letters.status_code == 400
    assert "不是有效的整数" in letters.get_data(as_text=True)
    assert "Not a valid" not in letters.get_data(as_text=True)
    assert policy_of(session, None) is None


def test_a_branch_administrator_overrides_units_in_their_subtree_only(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.east).username)
    assert client.get("/admin/dispatch/policy").status_code == 403  # the deployment is the city's
    assert client.get(f"/admin/dispatch/units/{tree.west_station.id}").status_code == 404
    url = f"/admin/dispatch/units/{tree.east_station.id}"
    page = client.get(url).get_data(as_text=True)
    assert "继承：120" in page
    assert client.post(url, data=POLICY_FORM | {"sampling_percent": "25"}).status_code == 302
    row = policy_of(session, tree.east_station.id)
    assert row is not None
    assert row.sampling_percent == 25
    assert client.post(f"{url}/clear").status_code == 302
    session.expire_all()
    assert policy_of(session, tree.east_station.id) is None


def test_unknown_and_failed_surveys_are_listed_for_a_person_to_check(
    client: FlaskClient,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    unknown = make_survey(
        SurveyStatus.UNKNOWN,
        case=make_case(unit=tree.east_station, phones=["+8613811112222"]),
        sending_at=now,
        last_error_code="lease_expired",
    )
    make_survey(SurveyStatus.FAILED, case=make_case(unit=tree.west_station), last_error_code="21211")
    make_survey(SurveyStatus.SENT, case=make_case(unit=tree.east_station))
    auth.login(make_user(Role.ADMIN, tree.city).username)
    page = client.get("/admin/dispatch/problems").get_data(as_text=True)
    assert "发送结果不明" in page
    assert "lease_expired" in page
    assert "21211" in page
    assert "138****2222" in page
    assert "+8613811112222" not in page
    assert unknown.case.external_no in page
    auth.logout()
    auth.login(make_user(Role.ADMIN, tree.west).username)
    page = client.get("/admin/dispatch/problems").get_data(as_text=True)
    assert "21211" in page
    assert "lease_expired" not in page
