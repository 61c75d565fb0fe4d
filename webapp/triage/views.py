"""The ticket queue and the ticket page with its actions."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from surveys.answers import summarize_response
from surveys.errors import InvalidTransitionError, ValidationError
from surveys.exports import write_tickets_workbook
from surveys.models import Role, Ticket, TicketEvent, User, is_purged_phone
from surveys.questions import OVERALL_LABELS
from surveys.states import TICKET_TRANSITIONS, TicketStatus
from surveys.taxonomies import current_taxonomy
from surveys.ticket_queue import AWAITING_CALLBACK, QueueFilter, count_tickets, queue_page
from surveys.triage import (
    PRIORITY_LABELS,
    RECATEGORIZED,
    STATUS_LABELS,
    URGENCY_DISMISSED,
    WORKING_ROLES,
    add_ticket_note,
    assignable_staff,
    change_ticket_status,
    current_analysis,
    dismissed_urgency_kinds,
    get_ticket_in_scope,
    recategorize_ticket,
    reveal_citizen_phone,
)
from surveys.units import subtree_units
from surveys.urgency_dismissal import (
    confirm_urgency_dismissal,
    dismiss_urgent_flags,
    dismissal_needs_confirmation,
    pending_dismissal_proposal,
    reject_urgency_dismissal,
    urgency_dismissible,
)
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.downloads import xlsx_attachment
from webapp.errors import StaffError
from webapp.forms import StaffForm
from webapp.security import current_staff, roles_required
from webapp.triage.forms import (
    CategoryForm,
    DismissUrgencyForm,
    NoteForm,
    QueueFilterForm,
    RevealPhoneForm,
    ReviewDismissalForm,
    StatusForm,
)

bp = Blueprint("triage", __name__, url_prefix="/triage")
STAFF = (Role.HANDLER, Role.SUPERVISOR, Role.ADMIN)
T = TypeVar("T")


def _ticket_or_404(ticket_id: int) -> Ticket:
    found = get_ticket_in_scope(get_session(), ticket_id, current_staff().scope_unit)
    if found is None:
        abort(404)
    return found


def _note_form() -> NoteForm:
    note_form = NoteForm(prefix="note")
    if not _works_tickets():
        note_form.kind.choices = [SelectChoice("note", "督办意见")]  # no number, so no call-back
    return note_form


def _status_form(ticket: Ticket) -> StatusForm:
    """The next steps in the workflow's order, none chosen, and who an 已分派 step may give the ticket to.

    Nothing is preselected: the first step offered would otherwise be one click away
    (已升级 for a ticket in progress). The ticket's holder, else the user, is the
    assignee offered first; for an assigned ticket the step 已分派 again is 改派.
    """
    form = StatusForm(prefix="status")
    steps = [s for s in TicketStatus if s in TICKET_TRANSITIONS[ticket.status]]
    form.status.choices = [
        SelectChoice("", "请选择"),
        *(SelectChoice(s.value, "改派他人" if s is ticket.status else STATUS_LABELS[s]) for s in steps),
    ]
    form.show(ticket)
    if TicketStatus.ASSIGNED in steps and _works_tickets():
        staff = assignable_staff(get_session(), ticket)
        if ticket.status is TicketStatus.ASSIGNED:  # 改派: to someone else
            staff = [user for user in staff if user.id != ticket.assignee_id]
        offered = {user.id for user in staff}
        first = next((i for i in (ticket.assignee_id, current_staff().id) if i in offered), None)
        form.offer_assignees(staff, first)
    return form


def _forms(ticket: Ticket) -> dict[str, object]:
    category_form = CategoryForm(prefix="category", category=ticket.category)
    category_form.category.choices = _category_choices(ticket.category, current_taxonomy(get_session()).names)
    return {
        "status_form": _status_form(ticket),
        "note_form": _note_form(),
        "category_form": category_form,
        "phone_form": RevealPhoneForm(prefix="phone"),
        "dismiss_form": DismissUrgencyForm(prefix="dismiss"),
        "review_form": ReviewDismissalForm(prefix="review"),
    }


def _works_tickets() -> bool:
    return current_staff().role in WORKING_ROLES


def _category_choices(current: str | None, names: Sequence[str]) -> list[SelectChoice]:
    """The taxonomy's categories, for the handler's select.

    A ticket's category that an administrator has since removed is shown as its current
    value, marked and not choosable again.
    """
    choices = [SelectChoice(name) for name in names]
    if current and current not in names:
        choices.insert(0, SelectChoice(current, f"{current}（已停用）", render_kw={"disabled": True}))
    return choices


def _render(ticket: Ticket, full_phone: str | None = None, status: int = 200, **forms: object) -> tuple[str, int]:
    context = _forms(ticket) | forms
    analysis = current_analysis(get_session(), ticket.response)
    page = render_template(
        "triage/ticket.html",
        ticket=ticket,
        answer=summarize_response(ticket.response),
        category_corrected=any(event.kind == RECATEGORIZED for event in ticket.events),
        analysis=analysis,
        dismissed_flag_kinds=dismissed_urgency_kinds(get_session(), ticket),
        # The model version names files and rules: of use to whoever retrains, noise to a handler.
        shows_model_version=current_staff().role == Role.ADMIN,
        urgency_dismissible=urgency_dismissible(ticket, analysis),
        dismissal_needs_confirmation=dismissal_needs_confirmation(analysis),
        dismissal_proposal=pending_dismissal_proposal(get_session(), ticket),
        staff_id=current_staff().id,
        labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
        full_phone=full_phone,
        works_tickets=_works_tickets(),
        can_reveal_phone=_works_tickets() and not is_purged_phone(ticket.response.survey.contact.phone_e164),
        **context,
    )
    return page, status


def _queue_filter_form() -> QueueFilterForm:
    """The queue's filters from the query string, validated: an invalid one is reported and left out."""
    form = QueueFilterForm(request.args, subtree_units(get_session(), current_staff().scope_unit))
    form.validate()
    return form


@bp.get("/")
@roles_required(*STAFF)
def queue() -> str:
    """Open tickets in the user's scope, filtered as the query string asks: urgent first, then by deadline."""
    session, staff, now = get_session(), current_staff(), clock_now()
    form = _queue_filter_form()
    page = queue_page(session, staff.scope_unit, form.queue_filter(staff.id, now), request.args.get("page", 1, int))
    return render_template(
        "triage/queue.html",
        page=page,
        awaiting_callback=count_tickets(session, staff.scope_unit, AWAITING_CALLBACK),
        # what someone gave this user to do: the queue's link to them, until they are done
        assigned_to_me=count_tickets(session, staff.scope_unit, QueueFilter(assignee_id=staff.id)),
        form=form,
        filter_args=form.query_args(),
        labels=STATUS_LABELS,
        overall_labels=OVERALL_LABELS,
        priority_labels=PRIORITY_LABELS,
        now=now,
    )


@bp.get("/export.xlsx")
@roles_required(*STAFF)
def export() -> Response:
    """The open tickets of the user's scope as a spreadsheet (no phone numbers), filtered as the queue is.

    The query string takes the queue's filters, so 导出筛选结果 exports what the
    filtered queue lists, on every page; an invalid filter is left out, as in the queue.
    The sheet is written to a temporary file and sent from there, so neither the rows nor
    the finished file are held in memory; the file is closed (and so deleted) when the
    response is.
    """
    staff = current_staff()
    filters = _queue_filter_form().queue_filter(staff.id, clock_now())
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it)
    try:
        write_tickets_workbook(
            get_session(), staff.scope_unit, current_app.config["MINYI_SETTINGS"].timezone, spool, filters
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return xlsx_attachment(spool, "minyi-tickets.xlsx")


@bp.get("/<int:ticket_id>")
@roles_required(*STAFF)
def ticket(ticket_id: int) -> tuple[str, int]:
    """The case, the answer, why it was flagged, its history, and the next steps."""
    return _render(_ticket_or_404(ticket_id))


def _apply(
    ticket: Ticket, action: str | Callable[[T], str], run: Callable[[], T], **submitted: StaffForm
) -> Response | tuple[str, int]:
    """Run a ticket action: commit and redirect on success, re-render with the error otherwise.

    ``action`` is the message of success, or makes it from what ``run`` returned. The
    ``submitted`` form (by its name in the page) is shown again as it was filled in, so a
    refused action does not lose what the handler typed; a refusal naming one of its
    fields (请说明驳回理由 for the note) is shown beside that field, any other at the top.
    """
    session = get_session()
    try:
        result = run()
    except (InvalidTransitionError, ValidationError) as exc:
        session.rollback()
        reason = getattr(exc, "reason", "该操作不被允许")
        field = None
        if isinstance(exc, ValidationError):
            field = next((form[exc.field] for form in submitted.values() if exc.field in form), None)
        if field is not None:
            field.errors = [*field.errors, reason]
        else:
            flash(reason, "error")
        return _render(_ticket_or_404(ticket.id), status=400, **submitted)
    session.commit()
    flash(action if isinstance(action, str) else action(result), "success")
    return redirect(url_for("triage.ticket", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/status")
@roles_required(*WORKING_ROLES)
def change_status(ticket_id: int) -> Response | tuple[str, int]:
    """Move the ticket to its next state."""
    found = _ticket_or_404(ticket_id)
    form = _forms(found)["status_form"]
    assert isinstance(form, StatusForm)  # noqa: S101  (narrowing for the type checker)
    if not form.validate_on_submit():
        return _render(found, status=400, status_form=form)
    target = TicketStatus(form.status.data)
    assignee = form.chosen_assignee()
    done = f"已分派给{assignee.display_name}" if assignee else f"已更新为：{STATUS_LABELS[target]}"
    return _apply(
        found,
        done,
        lambda: change_ticket_status(
            get_session(),
            found,
            target,
            current_staff().db_user(),
            clock_now(),
            form.note.data or "",
            assignee,
            form.seen_ticket(),
        ),
        status_form=form,
    )


@bp.post("/<int:ticket_id>/note")
@roles_required(*STAFF)
def add_note(ticket_id: int) -> Response | tuple[str, int]:
    """Add a note or a call-back record."""
    found = _ticket_or_404(ticket_id)
    form = _note_form()
    if not form.validate_on_submit():
        return _render(found, status=400, note_form=form)
    return _apply(
        found,
        "已记录",
        lambda: add_ticket_note(
            get_session(), found, current_staff().db_user(), clock_now(), form.note.data or "", form.kind.data or ""
        ),
        note_form=form,
    )


@bp.post("/<int:ticket_id>/category")
@roles_required(*WORKING_ROLES)
def change_category(ticket_id: int) -> Response | tuple[str, int]:
    """Correct the problem category (a training label for the category model)."""
    found = _ticket_or_404(ticket_id)
    form = _forms(found)["category_form"]
    assert isinstance(form, CategoryForm)  # noqa: S101  (narrowing for the type checker)
    if not form.validate_on_submit():
        return _render(found, status=400, category_form=form)
    return _apply(
        found,
        "类别已更正",
        lambda: recategorize_ticket(
            get_session(),
            found,
            form.category.data or "",
            current_staff().db_user(),
            clock_now(),
            current_taxonomy(get_session()).names,
        ),
        category_form=form,
    )


@bp.post("/<int:ticket_id>/urgency-dismissal")
@roles_required(*WORKING_ROLES)
def dismiss_urgency(ticket_id: int) -> Response | tuple[str, int]:
    """Mark the urgent flags as false alarms (预警误报); a threat or violence only by proposal."""
    found = _ticket_or_404(ticket_id)
    form = DismissUrgencyForm(prefix="dismiss")
    if not form.validate_on_submit():
        return _render(found, status=400, dismiss_form=form)
    note = form.note.data or ""
    return _apply(
        found,
        _dismissal_message,
        lambda: dismiss_urgent_flags(get_session(), found, current_staff().db_user(), clock_now(), note),
        dismiss_form=form,
    )


def _dismissal_message(event: TicketEvent) -> str:
    if event.kind == URGENCY_DISMISSED:
        return "已标记为预警误报"
    return "已提出误报，待另一名办理人员或管理员复核确认；复核前工单仍按紧急处理"


@bp.post("/<int:ticket_id>/urgency-dismissal/confirm")
@roles_required(*WORKING_ROLES)
def confirm_dismissal(ticket_id: int) -> Response | tuple[str, int]:
    """Confirm another person's proposed dismissal (四眼原则): it takes effect."""
    return _review_dismissal(ticket_id, confirm_urgency_dismissal, "已确认预警误报")


@bp.post("/<int:ticket_id>/urgency-dismissal/reject")
@roles_required(*WORKING_ROLES)
def reject_dismissal(ticket_id: int) -> Response | tuple[str, int]:
    """Reject (or, by its proposer, withdraw) a proposed dismissal: the flags stand."""
    return _review_dismissal(
        ticket_id,
        reject_urgency_dismissal,
        lambda event: "误报提议已撤回，预警保留" if event.data["withdrawn"] else "误报提议已驳回，预警保留",
    )


def _review_dismissal(
    ticket_id: int,
    review: Callable[[Session, Ticket, User, dt.datetime, int, str], TicketEvent],
    action: str | Callable[[TicketEvent], str],
) -> Response | tuple[str, int]:
    """Confirm or reject: the note is optional to the form, ``review`` decides whether it is required."""
    found = _ticket_or_404(ticket_id)
    form = ReviewDismissalForm(prefix="review")
    if not form.validate_on_submit():
        return _render(found, status=400, review_form=form)
    note, proposal_id = form.note.data or "", form.proposal.data
    return _apply(
        found,
        action,
        lambda: review(get_session(), found, current_staff().db_user(), clock_now(), proposal_id, note),
        review_form=form,
    )


@bp.post("/<int:ticket_id>/phone")
@roles_required(*WORKING_ROLES)
def reveal_phone(ticket_id: int) -> tuple[str, int]:
    """Show the full number for a call-back; the reveal is audited."""
    found = _ticket_or_404(ticket_id)
    if not RevealPhoneForm(prefix="phone").validate_on_submit():
        abort(400)
    session = get_session()
    try:
        phone = reveal_citizen_phone(session, found, current_staff().db_user(), clock_now(), request.remote_addr)
    except ValidationError as error:
        raise StaffError(409, error.reason) from error
    session.commit()
    return _render(found, full_phone=phone)
