"""The unit tree: only a city is a root, and imports refuse any other hierarchy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.errors import ValidationError
from surveys.models import Unit, UnitLevel
from surveys.units import import_unit_rows, is_top_level

HEADER = "code,name,level,parent_code,hotline\n"


def _units(session: Session) -> int:
    return session.scalar(select(func.count(Unit.id))) or 0


def test_a_whole_tree_is_imported(session: Session):
    rows = "1,市局,city,,\n2,分局,branch,1,\n3,派出所,station,2,\n4,直属大队,station,1,0575-1\n"

    assert import_unit_rows(session, (HEADER + rows).encode()) == 4

    city = session.scalars(select(Unit).where(Unit.code == "1")).one()
    assert is_top_level(city)
    assert [unit.code for unit in city.children] == ["2", "4"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2,孤立派出所,station,,", "2 孤立派出所：station 级单位必须填写上级单位（parent_code）"),
        ("2,孤立分局,branch,,", "branch 级单位必须填写上级单位"),
        ("2,下级市局,city,1,", "city 级单位是最上级，不能有上级单位"),
        ("2,派出所下的分局,branch,9,", "branch 级单位不能隶属于 station 级单位 9"),
        ("2,派出所下的派出所,station,9,", "station 级单位不能隶属于 station 级单位 9"),
        ("2" * 33 + ",长代码,station,1,", "code 最多 32 个字符"),
        ("2,派出所,station,1," + "1" * 33, "hotline 最多 32 个字符"),
    ],
)
def test_a_broken_hierarchy_is_refused_with_its_row_and_nothing_is_kept(session: Session, row: str, reason: str):
    data = f"{HEADER}1,市局,city,,\n9,派出所,station,1,\n{row}\n".encode()

    with pytest.raises(ValidationError) as raised:
        import_unit_rows(session, data)

    assert raised.value.field == "第 4 行"
    assert reason in raised.value.reason
    session.rollback()  # the command's transaction: nothing of the file stays
    assert _units(session) == 0


@pytest.mark.parametrize(
    ("level", "has_parent", "expected"),
    [
        (UnitLevel.CITY, False, True),
        (UnitLevel.STATION, False, False),  # an orphan left by an older, unchecked import
        (UnitLevel.BRANCH, False, False),
        (UnitLevel.CITY, True, False),
    ],
)
def test_only_a_city_without_parent_is_top_level(
    make_unit: Callable[..., Unit], level: UnitLevel, has_parent: bool, expected: bool
):
    parent = make_unit() if has_parent else None
    assert is_top_level(make_unit(parent=parent, level=level)) is expected
