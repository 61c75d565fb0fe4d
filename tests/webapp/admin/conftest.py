"""Fixtures for the administrators' pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from surveys.models import Role, User
from tests.factories import AuthActions, Tree


@pytest.fixture
def city_admin(auth: AuthActions, tree: Tree, make_user: Callable[..., User]) -> User:
    """An administrator of the city bureau (the deployment's settings are theirs), logged in."""
    admin = make_user(Role.ADMIN, tree.city, display_name="系统管理员")
    auth.login(admin.username)
    return admin
