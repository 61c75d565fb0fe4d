"""Staff accounts and API keys: creation rules, deactivation, roles and revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from surveys.accounts import (
    authenticate_api_key,
    create_api_key,
    create_user,
    deactivate_user,
    find_api_key,
    revoke_api_key,
    set_role,
)
from surveys.errors import ValidationError
from surveys.models import Role, Unit, UnitLevel, User

PASSWORD = "a-long-password"


@pytest.mark.parametrize(
    ("username", "password", "field", "reason"),
    [
        ("", PASSWORD, "username", "用户名不能为空"),
        (" admin ", PASSWORD, "username", "开头或结尾不能有空格"),
        ("admin\n", PASSWORD, "username", "开头或结尾不能有空格"),
        ("ad\x00min", PASSWORD, "username", "控制字符"),
        ("a" * 65, PASSWORD, "username", "最多 64 个字符"),
        ("chen", "1234567", "password", "密码至少 8 位"),
    ],
)
def test_bad_usernames_and_short_passwords_are_refused(
    session: Session, make_unit: Callable[..., Unit], username: str, password: str, field: str, reason: str
):
    with pytest.raises(ValidationError) as raised:
        create_user(session, username, password, Role.ADMIN, make_unit())
    assert (raised.value.field, reason in raised.value.reason) == (field, True)


@pytest.fixture
def city(make_unit: Callable[..., Unit]) -> Unit:
    return make_unit()


def test_the_last_top_level_administrator_is_neither_deactivated_nor_demoted(
    session: Session, city: Unit, make_unit: Callable[..., Unit], make_user: Callable[..., User]
):
    root = make_user(Role.ADMIN, city)
    make_user(Role.ADMIN, make_unit(parent=city))  # a station's administrator does not count
    make_user(Role.ADMIN, city).is_active = False  # nor does a deactivated one

    for change in (lambda: deactivate_user(session, root), lambda: set_role(session, root, Role.SUPERVISOR)):
        with pytest.raises(ValidationError, match="最后一个启用的市局"):
            change()
    assert (root.is_active, root.role, root.session_epoch) == (True, Role.ADMIN, 0)

    make_user(Role.ADMIN, city)
    assert set_role(session, root, Role.SUPERVISOR) is Role.ADMIN
    deactivate_user(session, root)
    assert (root.is_active, root.role, root.session_epoch) == (False, Role.SUPERVISOR, 1)


def test_an_orphan_station_administrator_is_not_a_top_level_one(
    session: Session, make_unit: Callable[..., Unit], make_user: Callable[..., User]
):
    orphan = make_user(Role.ADMIN, make_unit(level=UnitLevel.STATION))
    root = make_user(Role.ADMIN)  # a city of its own

    with pytest.raises(ValidationError, match="最后一个启用的市局"):
        deactivate_user(session, root)
    deactivate_user(session, orphan)


def test_deactivating_twice_and_setting_the_same_role_are_refused(
    session: Session, city: Unit, make_user: Callable[..., User]
):
    handler = make_user(Role.HANDLER, city)
    deactivate_user(session, handler)
    with pytest.raises(ValidationError, match="已停用"):
        deactivate_user(session, handler)
    with pytest.raises(ValidationError, match="已经是 handler"):
        set_role(session, handler, Role.HANDLER)


def test_an_api_key_is_found_by_id_prefix_or_whole_key_and_revoked(session: Session, now: dt.datetime):
    api_key, plaintext = create_api_key(session, "警务系统", source="jwxt")

    assert find_api_key(session, str(api_key.id)) is api_key
    assert find_api_key(session, plaintext[:10]) is api_key
    assert find_api_key(session, plaintext) is api_key
    revoke_api_key(api_key, now)
    assert authenticate_api_key(session, plaintext) is None
    with pytest.raises(ValidationError, match="已于"):
        revoke_api_key(api_key, now)


@pytest.mark.parametrize(
    ("reference", "reason"), [("999999", "没有编号为"), ("mk_nothere", "没有前缀为"), ("abc", "请给出")]
)
def test_an_unknown_api_key_is_refused(session: Session, reference: str, reason: str):
    with pytest.raises(ValidationError, match=reason):
        find_api_key(session, reference)


def test_a_prefix_shared_by_two_keys_is_ambiguous(session: Session):
    first, _ = create_api_key(session, "一", source="jwxt")
    second, _ = create_api_key(session, "二", source="jwxt")
    second.prefix = first.prefix
    session.flush()

    with pytest.raises(ValidationError, match="对应多个密钥"):
        find_api_key(session, first.prefix)


@pytest.mark.parametrize(
    ("name", "source", "field"), [("", "jwxt", "name"), ("警务", "", "source"), ("警务", "x" * 33, "source")]
)
def test_an_api_key_needs_a_name_and_a_source(session: Session, name: str, source: str, field: str):
    with pytest.raises(ValidationError) as raised:
        create_api_key(session, name, source=source)
    assert raised.value.field == field
