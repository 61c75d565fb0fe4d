"""Unit hierarchy operations: creating units and scoping queries to subtrees."""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, select
from sqlalchemy.orm import Session

from surveys.csv_rows import read_csv_rows
from surveys.errors import ValidationError
from surveys.models import Unit, UnitLevel
from surveys.text import NOT_ONE_LINE


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


#: How deep each level sits: a unit's parent must sit higher (a station may hang under the
#: city directly, as a 直属 brigade does; a branch never hangs under a station).
LEVEL_DEPTH = {UnitLevel.CITY: 0, UnitLevel.BRANCH: 1, UnitLevel.STATION: 2}
#: Column widths of ``units`` (longer values would fail on PostgreSQL mid-import).
MAX_CODE_CHARS = 32
MAX_NAME_CHARS = 100
MAX_HOTLINE_CHARS = 32


def is_top_level(unit: Unit) -> bool:
    """True for a root of the hierarchy: a city bureau with no parent.

    Administrators of a top-level unit own the deployment-wide policy and taxonomy, so
    the level is checked as well as the missing parent: a station or branch without a
    parent (a database filled before imports checked the tree) is never a root.
    """
    return unit.level is UnitLevel.CITY and unit.parent_id is None


def top_level_condition() -> ColumnElement[bool]:
    """SQL form of :func:`is_top_level` (join ``units`` to use it)."""
    return and_(Unit.level == UnitLevel.CITY, Unit.parent_id.is_(None))


def check_placement(level: UnitLevel, parent: Unit | None) -> str | None:
    """Why a unit of ``level`` cannot hang under ``parent``, or None when it can."""
    if parent is None:
        return None if level is UnitLevel.CITY else f"{level} 级单位必须填写上级单位（parent_code）"
    if level is UnitLevel.CITY:
        return "city 级单位是最上级，不能有上级单位"
    if LEVEL_DEPTH[parent.level] >= LEVEL_DEPTH[level]:
        return f"{level} 级单位不能隶属于 {parent.level} 级单位 {parent.code}"
    return None


def _cell(row: dict[str, str], name: str, line: int, max_chars: int) -> str:
    value = (row.get(name) or "").strip()
    if NOT_ONE_LINE.search(value):
        raise ValidationError(f"第 {line} 行", f"{name} 含有控制字符或换行")
    if len(value) > max_chars:
        raise ValidationError(f"第 {line} 行", f"{name} 最多 {max_chars} 个字符")
    return value


def import_unit_rows(session: Session, data: bytes) -> int:
    """Create units from CSV (code, name, level, parent_code, hotline); parents must come first.

    All or nothing: the tree is small and a half-built hierarchy would misplace every
    figure computed on it, so the first bad row aborts the whole import. Only a city
    may be a root and only a city may lack a parent: an orphan station would otherwise
    look like a top-level unit to every check that walks the tree.
    """
    created = 0
    for line, row in read_csv_rows(data, ("code", "name", "level")):
        code, name = _cell(row, "code", line, MAX_CODE_CHARS), _cell(row, "name", line, MAX_NAME_CHARS)
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
        if (problem := check_placement(level, parent)) is not None:
            raise ValidationError(f"第 {line} 行", f"{code} {name}：{problem}")
        hotline = _cell(row, "hotline", line, MAX_HOTLINE_CHARS) or None
        create_unit(session, code, name, level, parent, hotline)
        created += 1
    return created


def ancestor_ids(unit: Unit) -> list[int]:
    """``unit`` and its ancestors, nearest first, from the materialised path ("/1/4/17/")."""
    return [int(part) for part in reversed(unit.path.strip("/").split("/")) if part] or [unit.id]


def in_subtree(unit_path_column: SQLColumnExpression[str], root: Unit) -> ColumnElement[bool]:
    """SQL predicate: the unit whose path is ``unit_path_column`` lies under ``root``."""
    return unit_path_column.startswith(root.path, autoescape=True)


def is_within(unit: Unit, root: Unit) -> bool:
    """Whether ``unit`` is ``root`` or lies under it: :func:`in_subtree` for a unit already loaded."""
    return unit.path.startswith(root.path)


def get_unit_by_code(session: Session, code: str) -> Unit | None:
    """Look a unit up by its external code."""
    return session.scalars(select(Unit).where(Unit.code == code)).one_or_none()


def subtree_unit_ids(root: Unit) -> Select[tuple[int]]:
    """The ids of every unit in ``root``'s subtree, as a subquery for ``IN``.

    For queries over answers: ``Case.unit_id IN (…)`` lets the database start from the
    period's answers and check their unit, where a join to ``units`` filtered by path
    lets it walk down every case the subtree ever had first (docs/scaling.md).
    """
    return select(Unit.id).where(in_subtree(Unit.path, root))


def subtree_units(session: Session, root: Unit) -> list[Unit]:
    """Every unit in ``root``'s subtree, root first, in tree order."""
    stmt: Select[tuple[Unit]] = select(Unit).where(in_subtree(Unit.path, root)).order_by(Unit.path)
    return list(session.scalars(stmt))


def child_units(session: Session, parent: Unit) -> list[Unit]:
    """The direct children of ``parent`` ordered by code."""
    return list(session.scalars(select(Unit).where(Unit.parent_id == parent.id).order_by(Unit.code)))


_EXTENSION_MARKERS = ("转", "分机", "ext", "EXT", "Ext")


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def hotline_tel_uri(hotline: str) -> str:
    """A ``tel:`` URI for a hotline written the way units write it.

    Hotlines are free text (``0575-8508 1234 转 8001``); a phone dials only digits, so the
    number keeps its digits (full-width ones folded) and a leading ``+``, and an extension
    after 转/分机/ext follows a pause (``,``), which Android and iOS diallers both send
    after the call connects. RFC 3966's ``;ext=`` would be the standard, but diallers
    commonly drop it or read ``;`` as a wait for the caller to confirm.
    """
    number, extension = hotline, ""
    for marker in _EXTENSION_MARKERS:
        head, found, tail = hotline.partition(marker)
        if found:
            number, extension = head, tail
            break
    plus = "+" if number.strip().startswith(("+", "＋")) else ""
    ext = _digits(extension)
    return f"tel:{plus}{_digits(number)}" + (f",{ext}" if ext else "")
