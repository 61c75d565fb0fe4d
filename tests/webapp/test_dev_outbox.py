"""The console provider's outbox page: administrators only (its links answer citizens' surveys)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from surveys.models import Role, User
from tests.factories import AuthActions, Tree


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient):
    response = client.get("/dev/outbox")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("role", "status"), [(Role.HANDLER, 403), (Role.SUPERVISOR, 403), (Role.ADMIN, 200)])
def test_only_administrators_read_the_outbox(
    client: FlaskClient, auth: AuthActions, tree: Tree, make_user: Callable[..., User], role: Role, status: int
):
    auth.login(make_user(role, tree.city).username)
    assert client.get("/dev/outbox").status_code == status
