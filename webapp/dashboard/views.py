"""The index by unit, with drill-down through the hierarchy inside the user's scope."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request

from surveys.index import compute_unit_indices, weekly_trend
from surveys.models import Role, Unit
from surveys.themes import complaint_themes
from surveys.triage import count_open_tickets
from surveys.units import child_units
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.security import current_staff, roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIOD_DAYS = (7, 30, 90)


@bp.get("/")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def index() -> str:
    """The selected unit (default: the user's own) and its children, with their indices."""
    session = get_session()
    scope = current_staff().scope_unit
    unit = scope
    unit_id = request.args.get("unit", type=int)
    if unit_id is not None:
        candidate = session.get(Unit, unit_id)
        if candidate is None or not candidate.path.startswith(scope.path):
            abort(404)
        unit = candidate
    days = request.args.get("days", default=30, type=int)
    if days not in PERIOD_DAYS:
        days = 30
    until = clock_now()
    since = until - dt.timedelta(days=days)
    children = child_units(session, unit)
    rows = compute_unit_indices(session, [unit, *children], since, until)
    ranked = sorted(rows[1:], key=lambda r: (r.index is None, -(r.index or 0)))
    breadcrumbs = []
    node: Unit | None = unit
    while node is not None and node.path.startswith(scope.path):
        breadcrumbs.insert(0, node)
        node = node.parent
    return render_template(
        "dashboard/index.html",
        unit=unit,
        total=rows[0],
        rows=ranked,
        days=days,
        periods=PERIOD_DAYS,
        breadcrumbs=breadcrumbs,
        open_tickets=count_open_tickets(session, unit),
        has_children={c.id: bool(c.children) for c in children},
        trend=weekly_trend(session, unit, until),
        themes=complaint_themes(session, unit, since, until),
    )
