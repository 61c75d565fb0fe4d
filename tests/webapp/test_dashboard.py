"""The supervisor dashboard: index by unit, drill-down inside the user's scope."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from surveys.models import Role, Ticket, User
from tests.factories import AuthActions
from tests.webapp.conftest import Tree


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
