"""The index by unit, with drill-down through the hierarchy inside the user's scope."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request, send_file
from werkzeug.wrappers import Response

from surveys.errors import ValidationError
from surveys.exports import XLSX_MIMETYPE, index_workbook
from surveys.index import (
    Month,
    UnitIndex,
    compute_unit_indices,
    count_children,
    last_complete_month,
    month_of,
    parse_month,
    recent_days,
    weekly_trend,
)
from surveys.models import Role, Unit
from surveys.themes import complaint_themes
from surveys.triage import count_open_tickets
from surveys.units import child_units
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.errors import StaffError
from webapp.security import current_staff, roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIOD_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
#: The largest id a row can have: ids are 32-bit signed INTEGER columns on PostgreSQL.
MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True)
class Selection:
    """The unit and period a dashboard request asks for, checked against the user's scope."""

    unit: Unit
    since: dt.datetime
    until: dt.datetime


def _tz() -> ZoneInfo:
    tz: ZoneInfo = current_app.config["MINYI_SETTINGS"].timezone
    return tz


def _selected_unit() -> Unit:
    """The ``unit`` argument, or the user's own unit; 404 for any id outside the user's scope.

    An id that is not a number in the id column's range is answered like an unknown one,
    before the lookup: the database would refuse it (PostgreSQL's INTEGER, SQLite's 64 bits).
    """
    scope = current_staff().scope_unit
    raw = request.args.get("unit", "").strip()
    if not raw:
        return scope
    unit_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ROW_ID)) else 0
    candidate = get_session().get(Unit, unit_id) if 1 <= unit_id <= MAX_ROW_ID else None
    if candidate is None or not candidate.path.startswith(scope.path):
        raise StaffError(404, "没有这个单位，或它不在您的权限范围内。")
    return candidate


def _selected_days() -> int:
    raw = request.args.get("days", "").strip()
    if not raw:
        return DEFAULT_DAYS
    if raw not in {str(days) for days in PERIOD_DAYS}:
        raise StaffError(400, "统计周期只能是近 7 天、近 30 天或近 90 天。")
    return int(raw)


def _selected_month(now: dt.datetime) -> Month:
    raw = request.args.get("month", "").strip()
    if not raw:
        return last_complete_month(now, _tz())
    try:
        return parse_month(raw, now, _tz())
    except ValidationError as exc:
        raise StaffError(400, exc.reason) from exc


def _ranked_children(selection: Selection) -> tuple[UnitIndex, list[UnitIndex], list[Unit]]:
    children = child_units(get_session(), selection.unit)
    rows = compute_unit_indices(get_session(), [selection.unit, *children], selection.since, selection.until)
    ranked = sorted(rows[1:], key=lambda r: (r.index is None, -(r.index or 0)))
    return rows[0], ranked, children


def _local(value: dt.datetime, fmt: str = "%Y-%m-%d") -> str:
    return value.astimezone(_tz()).strftime(fmt)


@bp.get("/")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def index() -> str:
    """The selected unit (default: the user's own), its children ranked, trend and themes."""
    session = get_session()
    unit, days, now = _selected_unit(), _selected_days(), clock_now()
    selection = Selection(unit, *recent_days(now, days, _tz()))
    total, ranked, children = _ranked_children(selection)
    scope = current_staff().scope_unit
    breadcrumbs = []
    node: Unit | None = selection.unit
    while node is not None and node.path.startswith(scope.path):
        breadcrumbs.insert(0, node)
        node = node.parent
    return render_template(
        "dashboard/index.html",
        unit=selection.unit,
        total=total,
        rows=ranked,
        days=days,
        period_dates=(_local(selection.since), _local(selection.until)),
        periods=PERIOD_DAYS,
        export_month=last_complete_month(now, _tz()),
        current_month=month_of(now, _tz()),
        breadcrumbs=breadcrumbs,
        open_tickets=count_open_tickets(session, selection.unit),
        child_counts=count_children(session, children),
        trend=weekly_trend(session, selection.unit, selection.until, _tz()),
        themes=complaint_themes(session, selection.unit, selection.since, selection.until),
    )


@bp.get("/export.xlsx")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def export() -> Response:
    """The ranking of one calendar month as a spreadsheet (月考评); default: the last complete month.

    The month is local (the deployment's time zone). The current month may be exported
    before it ends; its figures then run up to now, and the sheet says so.
    """
    unit, now = _selected_unit(), clock_now()
    month = _selected_month(now)
    since, month_end = month.bounds(_tz())
    until = min(month_end, now)
    total, ranked, _ = _ranked_children(Selection(unit, since, until))
    period = (
        f"{unit.name} 民意指数月考评 {month.year} 年 {month.month} 月："
        f"统计期间 {month.first_day} 至 {month.last_day}（{_tz().key} 时间）"
    )
    if until < month_end:
        period += f"，本月尚未结束，数据截至 {_local(until, '%Y-%m-%d %H:%M')}"
    download = send_file(
        io.BytesIO(index_workbook([total, *ranked], period)),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"minyi-index-{unit.code}-{month}.xlsx",
    )
    download.headers["Cache-Control"] = "no-store"
    return download
