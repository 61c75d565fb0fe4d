"""The taxonomy page: administrators of a top-level unit edit the complaint categories."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nlp import default_taxonomy
from surveys.models import Role, TaxonomyRevision, Ticket, Unit, User
from surveys.taxonomies import current_taxonomy
from tests.factories import AuthActions, Tree


def taxonomy_form(*extra: tuple[str, str, str], remove: tuple[str, ...] = ()) -> dict[str, str]:
    """The form as the page posts it: the shipped categories, then ``extra`` (name, description, seeds)."""
    rows = [(c.name, c.description, "\n".join(c.seeds)) for c in default_taxonomy().categories]
    rows = [*rows, *extra, ("", "", "")]  # the page always offers an empty row
    data: dict[str, str] = {}
    for position, (name, description, seeds) in enumerate(rows):
        data |= {
            f"categories-{position}-name": name,
            f"categories-{position}-description": description,
            f"categories-{position}-seeds": seeds,
        }
        if name in remove:
            data[f"categories-{position}-remove"] = "y"
    return data


def _revisions(session: Session) -> int:
    return session.scalar(select(func.count(TaxonomyRevision.id))) or 0


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR])
def test_only_administrators_see_the_page(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User], role: Role
):
    auth.login(make_user(role, tree.city).username)
    assert client.get("/admin/taxonomy").status_code == 403
    assert client.post("/admin/taxonomy", data=taxonomy_form()).status_code == 403


def test_a_station_administrator_sees_the_categories_but_cannot_change_them(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.east_station).username)
    page = client.get("/admin/taxonomy").get_data(as_text=True)
    assert "服务态度" in page
    assert "类别由市局管理员统一维护" in page
    assert client.post("/admin/taxonomy", data=taxonomy_form(("噪音扰民", "", "噪音"))).status_code == 403
    assert _revisions(session) == 0


def test_the_page_shows_every_category_with_its_seeds_and_an_empty_row(client: FlaskClient, city_admin: User):
    page = client.get("/admin/taxonomy").get_data(as_text=True)
    for category in default_taxonomy().categories:
        assert f'value="{category.name}"' in page
    assert "出警慢" in page  # a seed of 出警速度
    assert 'placeholder="新增类别"' in page
    assert "兜底类别，不能改名或删除" in page
    assert "当前为系统默认类别" in page


def test_an_administrator_adds_a_category_that_handlers_can_then_choose(
    client: FlaskClient,
    session: Session,
    city_admin: User,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[[Unit], Ticket],
):
    saved = client.post("/admin/taxonomy", data=taxonomy_form(("噪音扰民", "夜间噪音", "噪音、吵得睡不着")))
    assert saved.status_code == 302
    assert "已保存" in client.get("/admin/taxonomy").get_data(as_text=True)
    taxonomy = current_taxonomy(session)
    [noise] = [c for c in taxonomy.categories if c.name == "噪音扰民"]
    assert noise.seeds == ("噪音", "吵得睡不着")
    assert taxonomy.names[-1] == "其他"

    ticket = make_ticket(tree.east_station)
    auth.login(make_user(Role.HANDLER, tree.east).username)
    assert '<option value="噪音扰民">' in client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert client.post(f"/triage/{ticket.id}/category", data={"category-category": "噪音扰民"}).status_code == 302
    session.refresh(ticket)
    assert ticket.category == "噪音扰民"


def test_a_ticked_category_is_removed(client: FlaskClient, session: Session, city_admin: User):
    assert client.post("/admin/taxonomy", data=taxonomy_form(remove=("廉洁问题",))).status_code == 302
    assert "廉洁问题" not in current_taxonomy(session).names


def test_a_bad_submission_shows_the_error_at_its_row_and_saves_nothing(
    client: FlaskClient, session: Session, city_admin: User
):
    response = client.post("/admin/taxonomy", data=taxonomy_form(("服务态度", "", "态度")))
    assert response.status_code == 400
    assert "与第 1 个类别重名" in response.get_data(as_text=True)
    assert _revisions(session) == 0


def test_the_fallback_cannot_be_dropped(client: FlaskClient, session: Session, city_admin: User):
    form = taxonomy_form()
    fallback_row = next(key for key, value in form.items() if value == "其他")
    form[fallback_row] = "其它问题"
    response = client.post("/admin/taxonomy", data=form)
    assert response.status_code == 400
    assert "必须保留兜底类别“其他”" in response.get_data(as_text=True)
    assert _revisions(session) == 0


def test_a_ticket_keeps_showing_a_removed_category_but_cannot_be_given_it_again(
    client: FlaskClient,
    session: Session,
    city_admin: User,
    auth: AuthActions,
    tree: Tree,
    make_user: Callable[..., User],
    make_ticket: Callable[[Unit], Ticket],
):
    ticket = make_ticket(tree.east_station)
    ticket.category = "廉洁问题"
    session.flush()
    assert client.post("/admin/taxonomy", data=taxonomy_form(remove=("廉洁问题",))).status_code == 302

    auth.login(make_user(Role.HANDLER, tree.east).username)
    page = client.get(f"/triage/{ticket.id}").get_data(as_text=True)
    assert '<option disabled selected value="廉洁问题">廉洁问题（已停用）</option>' in page
    refused = client.post(f"/triage/{ticket.id}/category", data={"category-category": "廉洁问题"})
    assert refused.status_code == 400
    assert "未知的类别" in refused.get_data(as_text=True)
    assert client.post(f"/triage/{ticket.id}/category", data={"category-category": "服务态度"}).status_code == 302
    session.refresh(ticket)
    assert ticket.category == "服务态度"
