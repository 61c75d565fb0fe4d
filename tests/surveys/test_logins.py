"""The login record: refused logins audited without the username, and the notice at the next login."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.logins import (
    LOGIN,
    LOGIN_REFUSED,
    OWN_TYPO_WINDOW,
    LoginNotice,
    record_login,
    record_refused_login,
)
from surveys.models import AuditEntry, User


def _entries(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_first_login_is_recorded_and_says_so(session: Session, make_user: Callable[..., User], now: dt.datetime):
    user = make_user()
    assert record_login(session, user, now, "10.0.0.1") == LoginNotice(None, None, 0)
    assert user.last_login_at == now
    [entry] = _entries(session, LOGIN)
    assert (entry.actor_id, entry.target_id, entry.ip_address) == (user.id, user.id, "10.0.0.1")


def test_the_next_login_names_the_last_and_the_wrong_passwords_since(
    session: Session, make_user: Callable[..., User], now: dt.datetime
):
    user, other = make_user(), make_user()
    record_refused_login(session, user.username, now, "10.0.0.9")  # before any login: told at the first
    assert record_login(session, user, now, "10.0.0.1").refused_since == 1
    later = now + dt.timedelta(days=2)
    for address in ("10.0.0.7", "10.0.0.8"):
        assert record_refused_login(session, user.username, later, address) is user
    record_refused_login(session, other.username, later, "10.0.0.7")  # another account's
    assert record_login(session, user, later, "10.0.0.2") == LoginNotice(now, "10.0.0.1", 2)
    assert record_login(session, user, later, "10.0.0.2").refused_since == 0  # counted once


def test_a_refused_login_never_stores_the_username(session: Session, make_user: Callable[..., User], now: dt.datetime):
    user = make_user()
    assert record_refused_login(session, "correct-horse-battery", now, "10.0.0.5") is None
    assert record_refused_login(session, "bad\x00name", now, "10.0.0.5") is None
    assert record_refused_login(session, user.username, now, "10.0.0.5") is user
    entries = _entries(session, LOGIN_REFUSED)
    assert [(e.actor_id, e.target_type, e.target_id, e.detail) for e in entries] == [
        (None, None, None, {}),
        (None, None, None, {}),
        (None, "user", user.id, {}),
    ]


def test_the_users_own_typos_just_before_logging_in_are_no_news(
    session: Session, make_user: Callable[..., User], now: dt.datetime
):
    user = make_user()
    record_login(session, user, now, "10.0.0.1")
    later = now + dt.timedelta(days=1)
    record_refused_login(session, user.username, later - OWN_TYPO_WINDOW - dt.timedelta(minutes=1), "10.0.0.2")
    record_refused_login(session, user.username, later - dt.timedelta(minutes=2), "10.0.0.2")  # a typo
    record_refused_login(session, user.username, later - dt.timedelta(minutes=1), "10.0.0.3")  # someone else
    assert record_login(session, user, later, "10.0.0.2").refused_since == 2
