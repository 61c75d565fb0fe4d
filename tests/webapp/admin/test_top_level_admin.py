"""Who speaks for the whole deployment: administrators of a city without parent, and no one else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.accounts import deactivate_user
from surveys.models import DispatchPolicy, Role, TaxonomyRevision, Unit, UnitLevel, User
from tests.factories import AuthActions, Tree
from tests.webapp.admin.test_dispatch_admin import POLICY_FORM
from tests.webapp.admin.test_taxonomy_admin import taxonomy_form


@pytest.mark.parametrize("level", [UnitLevel.STATION, UnitLevel.BRANCH])
def test_an_administrator_of_an_orphan_unit_cannot_change_the_deployment(
    client: FlaskClient,
    session: Session,
    auth: AuthActions,
    tree: Tree,
    make_unit: Callable[..., Unit],
    make_user: Callable[..., User],
    level: UnitLevel,
):
    orphan = make_unit(level=level, name="孤立单位")  # as an unchecked import once left it
    auth.login(make_user(Role.ADMIN, orphan).username)

    assert client.get("/admin/dispatch/policy").status_code == 403
    assert client.post("/admin/dispatch/policy", data=POLICY_FORM | {"sampling_percent": "0"}).status_code == 403
    assert client.post("/admin/taxonomy", data=taxonomy_form(("噪音扰民", "", "噪音"))).status_code == 403
    assert "修改全局设置" not in client.get("/admin/dispatch").get_data(as_text=True)
    assert "类别由市局管理员统一维护" in client.get("/admin/taxonomy").get_data(as_text=True)
    assert session.scalars(select(DispatchPolicy)).first() is None
    assert session.scalars(select(TaxonomyRevision)).first() is None


def test_a_city_administrator_still_changes_the_deployment(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    auth.login(make_user(Role.ADMIN, tree.city).username)

    assert "修改全局设置" in client.get("/admin/dispatch").get_data(as_text=True)
    assert client.post("/admin/dispatch/policy", data=POLICY_FORM | {"sampling_percent": "50"}).status_code == 302


def test_deactivating_an_account_ends_its_session_at_once(
    client: FlaskClient, session: Session, auth: AuthActions, tree: Tree, make_user: Callable[..., User]
):
    make_user(Role.ADMIN, tree.city)  # another top-level administrator remains
    admin = make_user(Role.ADMIN, tree.city)
    auth.login(admin.username)
    assert client.get("/admin/dispatch").status_code == 200

    deactivate_user(session, admin)

    response = client.get("/admin/dispatch")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
