"""Unit hierarchy operations: creating units and scoping queries to subtrees."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, select
from sqlalchemy.orm import Session

from surveys.models import Unit, UnitLevel


def create_unit(
    session: Session,
    code: str,
    name: str,
    level: UnitLevel,
    parent: Unit | None = None,
    hotline: str | None = None,
) -> Unit:
    """Add a unit under ``parent`` and set its materialised path (needs a flush for the id)."""
    unit = Unit(code=code, name=name, level=level, parent=parent, hotline=hotline)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def in_subtree(unit_path_column: SQLColumnExpression[str], root: Unit) -> ColumnElement[bool]:
    """SQL predicate: the unit whose path is ``unit_path_column`` lies under ``root``."""
    return unit_path_column.startswith(root.path, autoescape=True)


def get_unit_by_code(session: Session, code: str) -> Unit | None:
    """Look a unit up by its external code."""
    return session.scalars(select(Unit).where(Unit.code == code)).one_or_none()


def subtree_units(session: Session, root: Unit) -> list[Unit]:
    """Every unit in ``root``'s subtree, root first, in tree order."""
    stmt: Select[tuple[Unit]] = select(Unit).where(in_subtree(Unit.path, root)).order_by(Unit.path)
    return list(session.scalars(stmt))


def child_units(session: Session, parent: Unit) -> list[Unit]:
    """The direct children of ``parent`` ordered by code."""
    return list(session.scalars(select(Unit).where(Unit.parent_id == parent.id).order_by(Unit.code)))


def root_units(session: Session) -> list[Unit]:
    """Units with no parent (normally the one city bureau)."""
    return list(session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)))
