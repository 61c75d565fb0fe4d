"""The ticket queue and the ticket page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from surveys.errors import InvalidTransitionError, ValidationError
from surveys.models import Role
from surveys.states import TICKET_TRANSITIONS, TicketStatus
from surveys.triage import change_ticket_status, current_analysis, get_ticket_in_scope, list_queue
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.security import current_staff, roles_required
from webapp.triage.forms import STATUS_LABELS, StatusForm

bp = Blueprint("triage", __name__, url_prefix="/triage")
STAFF = (Role.HANDLER, Role.SUPERVISOR, Role.ADMIN)


@bp.get("/")
@roles_required(*STAFF)
def queue() -> str:
    """Open tickets in the user's scope: urgent first, then by deadline."""
    tickets = list_queue(get_session(), current_staff().scope_unit)
    return render_template("triage/queue.html", tickets=tickets, labels=STATUS_LABELS, now=clock_now())


@bp.route("/<int:ticket_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def ticket(ticket_id: int) -> Response | str:
    """The case, the answer, why it was flagged, its history, and the next step."""
    session = get_session()
    found = get_ticket_in_scope(session, ticket_id, current_staff().scope_unit)
    if found is None:
        abort(404)
    form = StatusForm()
    form.status.choices = [(s.value, STATUS_LABELS[s]) for s in sorted(TICKET_TRANSITIONS[found.status])]
    if form.validate_on_submit():
        try:
            change_ticket_status(
                session,
                found,
                TicketStatus(form.status.data),
                current_staff().db_user(),
                clock_now(),
                form.note.data or "",
            )
        except (InvalidTransitionError, ValidationError) as exc:
            session.rollback()
            flash(getattr(exc, "reason", "该状态变更不被允许"), "error")
        else:
            session.commit()
            flash("已更新", "success")
            return redirect(url_for("triage.ticket", ticket_id=ticket_id))
    return render_template(
        "triage/ticket.html",
        ticket=found,
        analysis=current_analysis(session, found.response),
        form=form,
        labels=STATUS_LABELS,
    )
