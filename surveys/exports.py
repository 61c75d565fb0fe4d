"""Spreadsheet exports (monthly scorecard, ticket lists), safe against formula injection.

Citizens write the comments, so any cell could start with ``=``, ``+``, ``-`` or ``@`` and
be run as a formula when a supervisor opens the file (OWASP "CSV injection"). Every text
cell is stored as a string cell, and one that starts with a formula trigger is prefixed
with a single quote, as OWASP recommends, so it stays inert even after a copy to CSV.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

from surveys.index import UnitIndex
from surveys.models import Ticket

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_text(value: str) -> str:
    """``value`` made inert for spreadsheets: a formula trigger at the start is quoted."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101  (a new workbook always has one sheet)
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe_text(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING  # never let openpyxl infer a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def index_workbook(rows: Sequence[UnitIndex]) -> bytes:
    """The unit ranking as an .xlsx sheet (月考评)."""
    return _workbook(
        "民意指数",
        ["单位", "民意指数", "原始均分", "满意率", "95%下限", "95%上限", "评价数"],
        ([r.unit_name, r.index, r.raw_index, r.satisfaction_rate, r.rate_low, r.rate_high, r.responses] for r in rows),
    )


def tickets_workbook(tickets: Sequence[Ticket], tz: ZoneInfo) -> bytes:
    """Tickets with the citizen's words, as an .xlsx sheet; phone numbers are never exported."""

    def local(value: dt.datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    return _workbook(
        "投诉工单",
        ["编号", "单位", "优先级", "状态", "类别", "评价", "留言", "原因", "生成时间", "期限"],
        (
            [
                t.id,
                t.unit.name,
                t.priority.value,
                t.status.value,
                t.category or "",
                t.response.overall,
                t.response.comment,
                "、".join(t.reasons),
                local(t.created_at),
                local(t.deadline_at),
            ]
            for t in tickets
        ),
    )
