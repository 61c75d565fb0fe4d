"""The index by unit, with drill-down through the hierarchy inside the user's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request

from surveys.exports import XLSX_MIMETYPE, index_workbook
from surveys.index import UnitIndex, compute_unit_indices, weekly_trend
from surveys.models import Role, Unit
from surveys.themes import complaint_themes
from surveys.triage import count_open_tickets
from surveys.units import child_units
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.security import current_staff, roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIOD_DAYS = (7, 30, 90)


@dataclass(frozen=True)
class Selection:
    """The unit and period a dashboard request asks for, checked against the user's scope."""

    unit: Unit
    days: int
    since: dt.datetime
    until: dt.datetime


def _selection() -> Selection:
    scope = current_staff().scope_unit
    unit = scope
    unit_id = request.args.get("unit", type=int)
    if unit_id is not None:
        candidate = get_session().get(Unit, unit_id)
        if candidate is None or not candidate.path.startswith(scope.path):
            abort(404)
        unit = candidate
    days = request.args.get("days", default=30, type=int)
    if days not in PERIOD_DAYS:
        days = 30
    until = clock_now()
    return Selection(unit, days, until - dt.timedelta(days=days), until)


def _ranked_children(selection: Selection) -> tuple[UnitIndex, list[UnitIndex], list[Unit]]:
    children = child_units(get_session(), selection.unit)
    rows = compute_unit_indices(get_session(), [selection.unit, *children], selection.since, selection.until)
    ranked = sorted(rows[1:], key=lambda r: (r.index is None, -(r.index or 0)))
    return rows[0], ranked, children


@bp.get("/")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def index() -> str:
    """The selected unit (default: the user's own), its children ranked, trend and themes."""
    session = get_session()
    selection = _selection()
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
        days=selection.days,
        periods=PERIOD_DAYS,
        breadcrumbs=breadcrumbs,
        open_tickets=count_open_tickets(session, selection.unit),
        has_children={c.id: bool(c.children) for c in children},
        trend=weekly_trend(session, selection.unit, selection.until),
        themes=complaint_themes(session, selection.unit, selection.since, selection.until),
    )


@bp.get("/export.xlsx")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def export() -> Response:
    """The ranking shown on the page, as a spreadsheet (月考评)."""
    selection = _selection()
    total, ranked, _ = _ranked_children(selection)
    filename = f"minyi-index-{selection.unit.code}-{selection.days}d.xlsx"
    return Response(
        index_workbook([total, *ranked]),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
