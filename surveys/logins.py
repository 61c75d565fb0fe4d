"""The login record: every login and refused login audited, and what the next login is told.

A staff member who logs in learns when their account was last used and how many wrong
passwords were tried on it since: the only way an officer notices that someone is
guessing their password, or used it, since the throttle that stops the guessing
(``LOGIN_ACCOUNT_RATE_LIMIT``) tells nobody. The attempts are audit entries, not a counter
on the account, so a refused login writes the same one row whether or not the username
exists, and the login page answers no faster for an unknown name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.accounts import account_named
from surveys.audit import record_audit
from surveys.models import AuditEntry, User

LOGIN = "login"
LOGIN_REFUSED = "login.refused"
#: Wrong passwords from the address of a login within this time before it are the user's
#: own typos, not news: warning about them would teach users to ignore the warning.
OWN_TYPO_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class LoginNotice:
    """What a user is told on logging in about their account's use since the last time."""

    #: The previous login (None: the first).
    previous_at: dt.datetime | None
    previous_ip_address: str | None
    #: Refused logins naming the account since the previous login (or ever, for the first),
    #: but for the user's own typos just before this one (``OWN_TYPO_WINDOW``).
    refused_since: int


def record_refused_login(session: Session, username: str, now: dt.datetime, ip_address: str | None) -> User | None:
    """Audit a refused login; return the account its username names, if any.

    The username itself is never stored: people type their password into that field.
    """
    user = account_named(session, username)
    record_audit(
        session,
        actor_id=None,
        action=LOGIN_REFUSED,
        now=now,
        target_type="user" if user is not None else None,
        target_id=user.id if user is not None else None,
        ip_address=ip_address,
    )
    return user


def record_login(session: Session, user: User, now: dt.datetime, ip_address: str | None) -> LoginNotice:
    """Audit ``user``'s login and return what to tell them about the account's use since the last one."""
    previous = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == LOGIN, AuditEntry.actor_id == user.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    refused = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == LOGIN_REFUSED, AuditEntry.target_type == "user", AuditEntry.target_id == user.id
    )
    if previous is not None:
        refused = refused.where(AuditEntry.id > previous.id)
    if ip_address is not None:
        own_typo = (AuditEntry.ip_address == ip_address) & (AuditEntry.created_at >= now - OWN_TYPO_WINDOW)
        refused = refused.where(~own_typo)
    notice = LoginNotice(
        previous_at=user.last_login_at,
        previous_ip_address=previous.ip_address if previous is not None else None,
        refused_since=int(session.scalar(refused) or 0),
    )
    user.last_login_at = now
    record_audit(
        session, actor_id=user.id, action=LOGIN, now=now, target_type="user", target_id=user.id, ip_address=ip_address
    )
    return notice
