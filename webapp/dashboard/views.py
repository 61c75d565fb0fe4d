"""The index by unit, with drill-down through the hierarchy inside the user's scope."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from surveys.errors import ValidationError
from surveys.exports import index_change_workbook, index_workbook
from surveys.index import (
    DROP_ALERT_MIN_RESPONSES,
    DROP_ALERT_POINTS,
    Month,
    UnitIndex,
    Week,
    compare_with_previous,
    compute_unit_indices,
    count_children,
    index_drops,
    last_complete_month,
    last_complete_week,
    month_of,
    parse_month,
    parse_week,
    previous_days,
    recent_days,
    weekly_trend,
)
from surveys.models import Role, Unit
from surveys.themes import complaint_themes
from surveys.ticket_queue import count_tickets
from surveys.units import child_units, is_within
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.downloads import xlsx_attachment
from webapp.errors import StaffError
from webapp.security import current_staff, roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
#: An export period: a calendar month or a Monday-to-Sunday week.
P = TypeVar("P", Month, Week)

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
    if candidate is None or not is_within(candidate, scope):
        raise StaffError(404, "没有这个单位，或它不在您的权限范围内。")
    return candidate


def _selected_days() -> int:
    raw = request.args.get("days", "").strip()
    if not raw:
        return DEFAULT_DAYS
    if raw not in {str(days) for days in PERIOD_DAYS}:
        raise StaffError(400, "统计周期只能是近 7 天、近 30 天或近 90 天。")
    return int(raw)


def _selected_period(name: str, parse: Callable[[str, dt.datetime, ZoneInfo], P], default: P, now: dt.datetime) -> P:
    """The export period the ``name`` argument gives (``default`` when absent); 400 with the parser's reason."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw, now, _tz())
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
    previous = previous_days(selection.since, days, _tz())
    drops = index_drops(compare_with_previous(session, children, ranked, (selection.since, selection.until), previous))
    scope = current_staff().scope_unit
    breadcrumbs = []
    node: Unit | None = selection.unit
    while node is not None and is_within(node, scope):
        breadcrumbs.insert(0, node)
        node = node.parent
    return render_template(
        "dashboard/index.html",
        unit=selection.unit,
        total=total,
        rows=ranked,
        days=days,
        period_dates=(_local(selection.since), _local(selection.until)),
        drops=drops,
        previous_dates=(_local(previous[0]), _local(previous[1] - dt.timedelta(days=1))),
        drop_points=DROP_ALERT_POINTS,
        drop_min_responses=DROP_ALERT_MIN_RESPONSES,
        periods=PERIOD_DAYS,
        export_month=last_complete_month(now, _tz()),
        current_month=month_of(now, _tz()),
        bulletin_week=last_complete_week(now, _tz()),
        today=_local(now),
        breadcrumbs=breadcrumbs,
        open_tickets=count_tickets(session, selection.unit),
        # The queue narrowed to the unit shown, whose open tickets the figure counts.
        open_tickets_url=url_for("triage.queue", unit=None if selection.unit.id == scope.id else selection.unit.id),
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
    month = _selected_period("month", parse_month, last_complete_month(now, _tz()), now)
    since, month_end = month.bounds(_tz())
    until = min(month_end, now)
    total, ranked, _ = _ranked_children(Selection(unit, since, until))
    period = (
        f"{unit.name} 民意指数月考评 {month.year} 年 {month.month} 月："
        f"统计期间 {month.first_day} 至 {month.last_day}（{_tz().key} 时间）"
    )
    if until < month_end:
        period += f"，本月尚未结束，数据截至 {_local(until, '%Y-%m-%d %H:%M')}"
    return xlsx_attachment(
        io.BytesIO(index_workbook([total, *ranked], period)), f"minyi-index-{unit.code}-{month}.xlsx"
    )


@bp.get("/bulletin.xlsx")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def bulletin() -> Response:
    """The ranking of one Monday-to-Sunday week beside the week before (周通报); default: the last complete week.

    ``week`` is any date of the week. The current week may be exported before it ends; its
    figures then run up to now, and the sheet says so.
    """
    unit, now = _selected_unit(), clock_now()
    week = _selected_period("week", parse_week, last_complete_week(now, _tz()), now)
    since, week_end = week.bounds(_tz())
    until = min(week_end, now)
    total, ranked, children = _ranked_children(Selection(unit, since, until))
    rows = compare_with_previous(
        get_session(), [unit, *children], [total, *ranked], (since, until), week.previous.bounds(_tz())
    )
    period = (
        f"{unit.name} 民意指数周通报：统计期间 {week.monday} 至 {week.sunday}（{_tz().key} 时间），"
        f"上期为 {week.previous.monday} 至 {week.previous.sunday}"
    )
    if until < week_end:
        period += f"，本周尚未结束，数据截至 {_local(until, '%Y-%m-%d %H:%M')}"
    return xlsx_attachment(io.BytesIO(index_change_workbook(rows, period)), f"minyi-bulletin-{unit.code}-{week}.xlsx")
