"""Unit hierarchy operations: creating units and scoping queries to subtrees."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, select
from sqlalchemy.orm import Session

from surveys.csv_rows import read_csv_rows
from surveys.errors import ValidationError
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


def import_unit_rows(session: Session, data: bytes) -> int:
    """Create units from CSV (code, name, level, parent_code, hotline); parents must come first.

    All or nothing: the tree is small and a half-built hierarchy would misplace every
    figure computed on it, so the first bad row aborts the whole import.
    """
    created = 0
    for line, row in read_csv_rows(data, ("code", "name", "level")):
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        if not code or not name:
            raise ValidationError(f"第 {line} 行", "code 和 name 必填")
        if get_unit_by_code(session, code) is not None:
            raise ValidationError(f"第 {line} 行", f"单位代码已存在：{code}")
        try:
            level = UnitLevel((row.get("level") or "").strip())
        except ValueError as exc:
            raise ValidationError(f"第 {line} 行", "level 应为 city、branch 或 station") from exc
        parent_code = (row.get("parent_code") or "").strip()
        parent = get_unit_by_code(session, parent_code) if parent_code else None
        if parent_code and parent is None:
            raise ValidationError(f"第 {line} 行", f"上级单位不存在：{parent_code}")
        create_unit(session, code, name, level, parent, (row.get("hotline") or "").strip() or None)
        created += 1
    return created


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
