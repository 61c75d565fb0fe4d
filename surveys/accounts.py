"""Staff accounts and API keys: hashing, verification, creation."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import ApiKey, Role, Unit, User

_hasher = PasswordHasher()
API_KEY_PREFIX = "mk_"


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (argon2-cffi defaults, the OWASP recommendation)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, username: str, password: str, role: Role, unit: Unit, display_name: str | None = None
) -> User:
    """Add a staff account; passwords shorter than 8 characters are refused."""
    if len(password) < 8:
        raise ValidationError("password", "密码至少 8 位")
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise ValidationError("username", f"用户名已存在：{username}")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
    )
    session.add(user)
    session.flush()
    return user


def authenticate_user(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, recording the login time."""
    # A username no form lets through (NUL, which PostgreSQL refuses) belongs to nobody.
    user = None if "\x00" in username else session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        verify_password(_dummy_hash(), password)
        return None
    # The password is checked first, so a deactivated account answers no faster.
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (their signed cookies carry the old epoch)."""
    user.session_epoch += 1


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("minyi-timing-equaliser")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str, source: str = "api") -> tuple[ApiKey, str]:
    """Create a key for ``source``; returns the row and the plaintext, shown only once."""
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=plaintext[:10], key_hash=_digest(plaintext), source=source)
    session.add(api_key)
    session.flush()
    return api_key, plaintext


def authenticate_api_key(session: Session, plaintext: str) -> ApiKey | None:
    """The active key matching ``plaintext``; a SHA-256 lookup (keys are high-entropy)."""
    if not plaintext.startswith(API_KEY_PREFIX):
        return None
    api_key = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(plaintext))).one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        return None
    return api_key
