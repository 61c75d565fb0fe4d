"""Spreadsheet exports (monthly scorecard, weekly bulletin, ticket lists), safe against formula injection.

Citizens write the comments, so any cell could start with ``=``, ``+``, ``-`` or ``@`` and
be run as a formula when a supervisor opens the file (OWASP "CSV injection"). Every text
cell is stored as a string cell, and one that starts with a formula trigger is prefixed
with a single quote, as OWASP recommends, so it stays inert even after a copy to CSV.

Sheets are written with openpyxl's write-only mode: rows go to a temporary file as they
come, so an export of every ticket of a city holds one batch of rows in memory, not all.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import TYPE_STRING
from sqlalchemy.orm import Session

from surveys.index import IndexChange, UnitIndex
from surveys.models import Unit, mask_numbers_in_text
from surveys.questions import OVERALL_LABELS
from surveys.ticket_queue import UNFILTERED, QueueFilter, matching_tickets
from surveys.triage import PRIORITY_LABELS, STATUS_LABELS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
#: Tickets fetched from the database per round trip while the sheet is written.
TICKET_BATCH_SIZE = 500

ONE_DECIMAL = "0.0"
PERCENT_ONE_DECIMAL = "0.0%"
SIGNED_ONE_DECIMAL = "+0.0;-0.0;0.0"
INTEGER = "0"


def safe_text(value: str) -> str:
    """``value`` made inert for spreadsheets: a formula trigger at the start is quoted."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


@dataclass(frozen=True)
class Column:
    """A column of an exported sheet: its header and the number format of its cells."""

    header: str
    number_format: str | None = None


def _write_sheet(
    out: IO[bytes],
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    preamble: Sequence[str] = (),
) -> int:
    """Write one sheet to ``out``: ``preamble`` lines, the header, then ``rows``; the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def cell(value: object, number_format: str | None = None) -> WriteOnlyCell:
        if isinstance(value, str):
            text = WriteOnlyCell(sheet, safe_text(value))
            text.data_type = TYPE_STRING  # never let openpyxl infer a formula
            return text
        number = WriteOnlyCell(sheet, value)
        if number_format is not None and value is not None:
            number.number_format = number_format
        return number

    for line in preamble:
        sheet.append([cell(line)])
    sheet.append([cell(column.header) for column in columns])
    written = 0
    for row in rows:
        sheet.append([cell(value, column.number_format) for value, column in zip(row, columns, strict=True)])
        written += 1
    workbook.save(out)
    return written


INDEX_COLUMNS = (
    Column("单位"),
    Column("民意指数", ONE_DECIMAL),
    Column("原始均分", ONE_DECIMAL),
    Column("满意率", PERCENT_ONE_DECIMAL),
    Column("95%下限", PERCENT_ONE_DECIMAL),
    Column("95%上限", PERCENT_ONE_DECIMAL),
    Column("评价数", INTEGER),
)


#: The weekly bulletin's extra columns, after 民意指数: last period's index and the change.
CHANGE_COLUMNS = (Column("上期指数", ONE_DECIMAL), Column("变化", SIGNED_ONE_DECIMAL))


def _index_cells(r: UnitIndex) -> list[object]:
    return [r.unit_name, r.index, r.raw_index, r.satisfaction_rate, r.rate_low, r.rate_high, r.responses]


def index_workbook(rows: Sequence[UnitIndex], period: str) -> bytes:
    """The unit ranking as an .xlsx sheet (月考评); its first line states ``period``."""
    buffer = io.BytesIO()
    _write_sheet(buffer, "民意指数", INDEX_COLUMNS, (_index_cells(r) for r in rows), preamble=[period])
    return buffer.getvalue()


def index_change_workbook(rows: Sequence[IndexChange], period: str) -> bytes:
    """The ranking beside the previous period's index and the change (周通报); first line ``period``.

    The columns are the scorecard's, with 上期指数 and 变化 after 民意指数, in the same formats.
    """

    def cells(row: IndexChange) -> list[object]:
        current = _index_cells(row.current)
        return [*current[:2], row.previous.index, row.change, *current[2:]]

    columns = (*INDEX_COLUMNS[:2], *CHANGE_COLUMNS, *INDEX_COLUMNS[2:])
    buffer = io.BytesIO()
    _write_sheet(buffer, "民意指数", columns, (cells(r) for r in rows), preamble=[period])
    return buffer.getvalue()


TICKET_COLUMNS = (
    Column("编号", INTEGER),
    Column("案件编号"),
    Column("单位"),
    Column("优先级"),
    Column("状态"),
    Column("经办人"),
    Column("类别"),
    Column("评价"),
    Column("评分", INTEGER),
    Column("留言"),
    Column("原因"),
    Column("生成时间"),
    Column("期限"),
)


def write_tickets_workbook(
    session: Session, root: Unit, tz: ZoneInfo, out: IO[bytes], filters: QueueFilter = UNFILTERED
) -> int:
    """The open tickets under ``root`` matching ``filters``, in queue order, as an .xlsx sheet written to ``out``.

    Phone numbers are never exported, nor the long numbers of a comment in full
    (:func:`surveys.models.mask_numbers_in_text`). The tickets are read in batches of
    ``TICKET_BATCH_SIZE`` (``yield_per``) and written as they come, and nothing keeps a
    reference to a written ticket, so memory stays bounded however many there are.
    Returns how many tickets were written.
    """

    def local(value: dt.datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    tickets = matching_tickets(session, root, filters, TICKET_BATCH_SIZE)
    return _write_sheet(
        out,
        "投诉工单",
        TICKET_COLUMNS,
        (
            [
                t.id,
                t.response.survey.case.external_no,
                t.unit.name,
                PRIORITY_LABELS[t.priority],
                STATUS_LABELS[t.status],
                t.assignee.display_name if t.assignee else "",
                t.category or "",
                OVERALL_LABELS.get(t.response.overall, ""),
                t.response.overall,
                mask_numbers_in_text(t.response.comment),
                "、".join(t.reasons),
                local(t.created_at),
                local(t.deadline_at),
            ]
            for t in tickets
        ),
    )
