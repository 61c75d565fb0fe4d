"""Units (市局 → 分局/县局 → 派出所/大队) and the people who work in them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from surveys.models.cases import Case


class UnitLevel(enum.StrEnum):
    """Depth in the hierarchy."""

    CITY = "city"  # 市局
    BRANCH = "branch"  # 分局/县局
    STATION = "station"  # 派出所/大队/窗口


class Unit(Base):
    """A police or service unit.

    ``path`` is a materialised path ("/1/4/17/") so that a subtree is one indexed
    ``LIKE 'prefix%'`` predicate: index figures of a parent are computed from every
    response in its subtree, and users are scoped to subtrees.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel, "unit_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    hotline: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    cases: Mapped[list[Case]] = relationship(back_populates="unit", lazy="write_only")

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.code} {self.name}>"


class Role(enum.StrEnum):
    """What a user may do; the unit scope says where."""

    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class User(Base):
    """A staff account, scoped to the subtree of ``unit``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Staff sessions are signed cookies that carry this number; logging out raises it, so
    # a copy of the cookie taken before stops working (surveys.accounts.end_sessions).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"


class ApiKey(Base):
    """A key for the case-management system; only its SHA-256 digest is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(32), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.prefix}… {self.name}>"
