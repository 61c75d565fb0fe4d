"""Case intake from CSV: bad rows reported by line, field and reason; good rows kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.cases import import_case_rows, read_case_file, read_csv_rows
from surveys.errors import ValidationError
from surveys.models import Case, CaseCategory, Unit
from surveys.settings import Settings

HEADER = "case_no,unit_code,category,closed_at,phone,role,officer_name,is_sensitive\n"


@pytest.fixture
def station(make_unit: Callable[..., Unit]) -> Unit:
    return make_unit(parent=make_unit(), code="330601", name="府山派出所")


def test_import_keeps_good_rows_and_reports_bad_ones(
    session: Session, station: Unit, settings: Settings, now: dt.datetime
):
    csv_text = HEADER + (
        "A1,330601,110警情,2026-11-20 09:00,13812345678,报警人,王警官,否\n"
        "A2,330601,交通事故,2026-11-20 09:00,12345,,,\n"
        "A3,999999,alarm_110,2026-11-20 09:00,13812345679,,,\n"
        "A1,330601,110警情,2026-11-20 09:00,13812345678,报警人,王警官,否\n"
        "A4,330601,窗口办事,2026-11-20T09:00:00+08:00,+8613912345678,,,是\n"
        "A5,330601,110警情,0001-01-01T00:00:00+08:00,13812345670,,,\n"  # overflows in UTC
    )
    report = import_case_rows(
        session, read_csv_rows(csv_text.encode("utf-8-sig")), source="csv", now=now, tz=settings.timezone
    )
    assert (report.created, report.duplicates) == (2, 1)
    assert [(e.line, e.field) for e in report.errors] == [(3, "phone"), (4, "unit_code"), (7, "closed_at")]
    cases = {c.external_no: c for c in session.scalars(select(Case))}
    assert set(cases) == {"A1", "A4"}
    assert cases["A4"].category is CaseCategory.WINDOW
    assert cases["A4"].is_sensitive is True
    assert cases["A1"].closed_at == dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


def test_file_without_required_columns_is_refused(session: Session):
    with pytest.raises(ValidationError) as caught:
        list(read_csv_rows(b"case_no,phone\nA1,13812345678\n"))
    assert caught.value.field == "file"
    assert "unit_code" in caught.value.reason


def test_non_utf8_file_is_refused(session: Session):
    with pytest.raises(ValidationError) as caught:
        list(read_csv_rows((HEADER + "A1,330601,110警情,2026-11-20 09:00,13812345678,,,\n").encode("gbk")))
    assert caught.value.field == "file"
    assert session.scalar(select(func.count(Case.id))) == 0


def test_xlsx_rows_are_read_like_csv(session: Session, station: Unit, settings: Settings, now: dt.datetime):
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["case_no", "unit_code", "category", "closed_at", "phone", "role"])
    sheet.append(["B1", "330601", "刑事案件", dt.datetime(2026, 11, 20, 9, 0), 13812345678, "当事人"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["B2", "330601", "刑事案件", "not a time", "13812345679", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_case_rows(
        session, read_case_file("cases.xlsx", buffer.getvalue()), source="xlsx", now=now, tz=settings.timezone
    )
    assert report.created == 1
    assert [(e.line, e.field) for e in report.errors] == [(4, "closed_at")]
    case = session.scalars(select(Case).where(Case.external_no == "B1")).one()
    assert case.closed_at == dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
    assert case.participants[0].contact.phone_e164 == "+8613812345678"


@pytest.mark.parametrize(("name", "data"), [("cases.txt", b"x"), ("cases.xlsx", b"not a zip")])
def test_unreadable_files_are_refused(name: str, data: bytes):
    with pytest.raises(ValidationError) as caught:
        list(read_case_file(name, data))
    assert caught.value.field == "file"
