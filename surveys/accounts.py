"""Staff accounts and API keys: hashing, verification, creation, deactivation and revocation."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import ValidationError
from surveys.models import ApiKey, Role, Unit, User
from surveys.text import NOT_ONE_LINE
from surveys.units import is_top_level, top_level_condition

_hasher = PasswordHasher()
API_KEY_PREFIX = "mk_"
#: How much of a key is stored in clear, to recognise it in listings (``api_keys.prefix``).
API_KEY_PREFIX_CHARS = 10
MIN_PASSWORD_CHARS = 8
#: Column widths (``users.username``/``display_name``, ``api_keys.name``/``source``).
MAX_USERNAME_CHARS = 64
MAX_API_KEY_NAME_CHARS = 100
MAX_SOURCE_CHARS = 32


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (argon2-cffi defaults, the OWASP recommendation)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_username(username: str) -> None:
    """Refuse a username nobody could type back at the login form.

    An empty name, one with leading or trailing spaces (the login form strips nothing, so
    `` admin `` would be a second, look-alike ``admin``), control characters or more than
    the column holds.
    """
    if not username:
        raise ValidationError("username", "用户名不能为空")
    if username != username.strip():
        raise ValidationError("username", "用户名开头或结尾不能有空格")
    if NOT_ONE_LINE.search(username):
        raise ValidationError("username", "用户名不能包含控制字符或换行")
    if len(username) > MAX_USERNAME_CHARS:
        raise ValidationError("username", f"用户名最多 {MAX_USERNAME_CHARS} 个字符")


def create_user(
    session: Session, username: str, password: str, role: Role, unit: Unit, display_name: str | None = None
) -> User:
    """Add a staff account; bad usernames and passwords shorter than 8 characters are refused."""
    check_username(username)
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError("password", f"密码至少 {MIN_PASSWORD_CHARS} 位")
    display_name = (display_name or "").strip() or username
    if len(display_name) > MAX_USERNAME_CHARS or NOT_ONE_LINE.search(display_name):
        raise ValidationError("name", f"显示名称最多 {MAX_USERNAME_CHARS} 个字符，且不能换行")
    if get_user_by_username(session, username) is not None:
        raise ValidationError("username", f"用户名已存在：{username}")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    """The account called ``username`` (active or not)."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def user_named(session: Session, username: str) -> User:
    """The account called ``username``; refused with a message when there is none."""
    user = get_user_by_username(session, username)
    if user is None:
        raise ValidationError("username", f"没有用户 {username}")
    return user


def is_top_level_admin(user: User) -> bool:
    """An active administrator of a root unit: who may change the deployment-wide settings."""
    return user.is_active and user.role is Role.ADMIN and is_top_level(user.unit)


def _check_not_last_top_level_admin(session: Session, user: User, change: str) -> None:
    """Refuse to take away the last account that can administer the whole deployment.

    Without one, nobody could change the deployment-wide policy or the taxonomy from the
    web pages, and only someone with database access could repair it. Every such account
    is locked in id order, so two commands run at once cannot each remove "the other".
    """
    if not is_top_level_admin(user):
        return
    admins = session.scalars(
        select(User.id)
        .join(Unit, User.unit_id == Unit.id)
        .where(User.is_active.is_(True), User.role == Role.ADMIN, top_level_condition())
        .order_by(User.id)
        .with_for_update(of=User)
    )
    if not any(admin_id != user.id for admin_id in admins):
        raise ValidationError("username", f"{user.username} 是最后一个启用的市局（最上级单位）管理员，不能{change}")


def deactivate_user(session: Session, user: User) -> None:
    """Disable an account and end its sessions at once (their cookies carry the old epoch)."""
    if not user.is_active:
        raise ValidationError("username", f"用户 {user.username} 已停用")
    _check_not_last_top_level_admin(session, user, "停用")
    user.is_active = False
    end_sessions(user)
    session.flush()


def set_role(session: Session, user: User, role: Role) -> Role:
    """Give ``user`` another role; returns the previous one.

    The sessions stay: each request reloads the account, so the new role applies from
    the user's next page on.
    """
    if user.role is role:
        raise ValidationError("role", f"用户 {user.username} 已经是 {role} 角色")
    if role is not Role.ADMIN:
        _check_not_last_top_level_admin(session, user, f"改为 {role}")
    previous, user.role = user.role, role
    session.flush()
    return previous


def authenticate_user(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials (:mod:`surveys.logins` records the login)."""
    user = account_named(session, username)
    if user is None:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        verify_password(_dummy_hash(), password)
        return None
    # The password is checked first, so a deactivated account answers no faster.
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (their signed cookies carry the old epoch)."""
    user.session_epoch += 1


def account_named(session: Session, username: str) -> User | None:
    """The account (active or not) that ``username``, as typed at login, names, if any.

    A username no form lets through (NUL, which PostgreSQL refuses) names nobody.
    """
    return None if "\x00" in username else get_user_by_username(session, username)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("minyi-timing-equaliser")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str, source: str = "api") -> tuple[ApiKey, str]:
    """Create a key for ``source``; returns the row and the plaintext, shown only once."""
    name, source = name.strip(), source.strip()
    if not name or len(name) > MAX_API_KEY_NAME_CHARS or NOT_ONE_LINE.search(name):
        raise ValidationError("name", f"密钥名称必填，最多 {MAX_API_KEY_NAME_CHARS} 个字符，且不能换行")
    if not source or len(source) > MAX_SOURCE_CHARS or NOT_ONE_LINE.search(source):
        raise ValidationError("source", f"来源系统必填，最多 {MAX_SOURCE_CHARS} 个字符，且不能换行")
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=plaintext[:API_KEY_PREFIX_CHARS], key_hash=_digest(plaintext), source=source)
    session.add(api_key)
    session.flush()
    return api_key, plaintext


def find_api_key(session: Session, reference: str) -> ApiKey:
    """The key named by its id, its shown prefix (``mk_AbC1234``) or the whole plaintext key.

    Only a prefix and a digest are stored, so a prefix is what an operator can read off a
    listing or the start of the key; two keys sharing one are refused as ambiguous.
    """
    reference = reference.strip()
    if reference.isdigit():
        api_key = session.get(ApiKey, int(reference))
        if api_key is None:
            raise ValidationError("key", f"没有编号为 {reference} 的 API 密钥")
        return api_key
    if not reference.startswith(API_KEY_PREFIX) or len(reference) < API_KEY_PREFIX_CHARS:
        raise ValidationError(
            "key", f"请给出密钥编号，或以 {API_KEY_PREFIX} 开头、至少 {API_KEY_PREFIX_CHARS} 个字符的前缀"
        )
    if len(reference) > API_KEY_PREFIX_CHARS:
        by_digest = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(reference))).one_or_none()
        if by_digest is not None:
            return by_digest
    prefix = reference[:API_KEY_PREFIX_CHARS]
    matches = list(session.scalars(select(ApiKey).where(ApiKey.prefix == prefix).order_by(ApiKey.id)))
    if not matches:
        raise ValidationError("key", f"没有前缀为 {prefix} 的 API 密钥")
    if len(matches) > 1:
        ids = ", ".join(str(key.id) for key in matches)
        raise ValidationError("key", f"前缀 {prefix} 对应多个密钥（编号 {ids}），请用编号")
    return matches[0]


def revoke_api_key(api_key: ApiKey, now: dt.datetime) -> None:
    """Stop accepting ``api_key`` from now on; the row stays as a record of who pushed what."""
    if api_key.revoked_at is not None:
        raise ValidationError(
            "key", f"API 密钥 {api_key.id}（{api_key.prefix}）已于 {api_key.revoked_at:%Y-%m-%d} 吊销"
        )
    api_key.revoked_at = now


def authenticate_api_key(session: Session, plaintext: str) -> ApiKey | None:
    """The active key matching ``plaintext``; a SHA-256 lookup (keys are high-entropy)."""
    if not plaintext.startswith(API_KEY_PREFIX):
        return None
    api_key = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(plaintext))).one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        return None
    return api_key
