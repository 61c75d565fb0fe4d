"""Triage: open tickets for negative or alarming answers and move them through their states."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.audit import record_audit
from surveys.errors import ValidationError
from surveys.models import (
    Analysis,
    Case,
    Response,
    Role,
    Survey,
    Ticket,
    TicketEvent,
    TicketPriority,
    Unit,
    User,
    is_purged_phone,
)
from surveys.states import OPEN_TICKET_STATES, TicketStatus, check_ticket_transition
from surveys.text import storable_text
from surveys.units import ancestor_ids, in_subtree

log = logging.getLogger(__name__)

#: How long a handler has to verify, fix and call back, by priority (好差评: 差评 within a deadline).
DEADLINES = {
    TicketPriority.URGENT: dt.timedelta(hours=24),
    TicketPriority.HIGH: dt.timedelta(days=3),
    TicketPriority.NORMAL: dt.timedelta(days=7),
}
NEGATIVE_RATING_MAX = 2


URGENT_REASON_PREFIX = "预警："
#: Event kind of the verdict that a ticket's urgent flags are false alarms
#: (:mod:`surveys.urgency_dismissal`); its data names the dismissed flag kinds and the comment.
URGENCY_DISMISSED = "urgency_dismissed"


def ticket_reasons(
    response: Response, analysis: Analysis | None, dismissed: Collection[str] = frozenset()
) -> tuple[list[str], TicketPriority | None]:
    """Why this answer needs a ticket, and how urgently (None: it does not).

    Urgent flags of the ``dismissed`` kinds (a handler found them to be false alarms on
    this answer's ticket) count for nothing.
    """
    reasons: list[str] = []
    if response.overall <= NEGATIVE_RATING_MAX:
        reasons.append("非常不满意" if response.overall == 1 else "不满意")
    if analysis is not None and analysis.sentiment_label == "negative" and response.comment:
        reasons.append("留言负面")
    flags = [flag for flag in analysis.urgency_flags if flag["kind"] not in dismissed] if analysis is not None else []
    reasons.extend(f"{URGENT_REASON_PREFIX}{flag['label']}" for flag in flags)
    if not reasons:
        return [], None
    if flags:
        return reasons, TicketPriority.URGENT
    if response.overall == 1:
        return reasons, TicketPriority.HIGH
    return reasons, TicketPriority.NORMAL


def open_ticket_if_needed(
    session: Session, response: Response, analysis: Analysis | None, now: dt.datetime
) -> Ticket | None:
    """Open the ticket for ``response`` if its rating or analysis calls for one (once).

    The deadline counts from the citizen's answer, not from when it was analysed. A
    ticket that exists already is raised if a later analysis (an SMS follow-up, a newer
    model) makes it more pressing: a threat sent after "2" must not wait a week. Flags
    of a kind a handler has dismissed in the same comment do not raise it again.
    """
    reasons, priority = ticket_reasons(response, analysis)
    if priority is None:
        return None
    existing = session.scalars(select(Ticket).where(Ticket.response_id == response.id)).one_or_none()
    if existing is not None:
        reasons, priority = ticket_reasons(response, analysis, dismissed_urgency_kinds(session, existing))
        if priority is not None:
            _raise_if_more_pressing(session, existing, priority, reasons, now)
        return existing
    ticket = Ticket(
        response=response,
        unit_id=response.survey.case.unit_id,
        status=TicketStatus.NEW,
        priority=priority,
        category=analysis.categories[0] if analysis is not None and analysis.categories else None,
        reasons=reasons,
        deadline_at=response.submitted_at + DEADLINES[priority],
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.add(
        TicketEvent(
            ticket=ticket, kind="created", to_status=TicketStatus.NEW, created_at=now, data={"reasons": reasons}
        )
    )
    session.flush()
    log.info("ticket %s opened (%s) for response %s", ticket.id, priority, response.id)
    return ticket


def dismissed_urgency_kinds(session: Session, ticket: Ticket) -> frozenset[str]:
    """The urgent flag kinds handlers found to be false alarms in the ticket's comment as it is.

    A verdict is about the words the handler read: once the citizen has added to the
    comment (an SMS follow-up), a flag of the same kind is news again.
    """
    stmt = select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == URGENCY_DISMISSED)
    verdicts = [data for data in session.scalars(stmt) if judged_current_comment(data, ticket.response)]
    return frozenset(kind for data in verdicts for kind in data["kinds"])


def judged_current_comment(verdict_data: dict[str, Any] | None, response: Response) -> bool:
    """Whether a verdict on urgent flags (its event data) was about the answer's comment as it is now.

    A verdict (a dismissal, a proposal to dismiss) is about the words the handler read:
    once the citizen has added to the comment (an SMS follow-up), it no longer applies.
    """
    return (verdict_data or {}).get("comment") == response.comment


#: The event kind of a handler's category correction (a training label, see surveys.training_data).
RECATEGORIZED = "recategorized"
#: Who works a ticket (moves it on, corrects its category, records the call-back) and so
#: may see the citizen's full number. Supervisors follow the queue and leave notes (督办
#: instructions), but the ticket's state and its training label stay the handlers'.
WORKING_ROLES = (Role.HANDLER, Role.ADMIN)
#: Lower is more pressing: the queue's order, and whether a new analysis raises a ticket.
PRIORITY_RANK = {TicketPriority.URGENT: 0, TicketPriority.HIGH: 1, TicketPriority.NORMAL: 2}
#: What handlers call the ticket's states and priorities (pages, history, exports).
STATUS_LABELS = {
    TicketStatus.NEW: "待分派",
    TicketStatus.ASSIGNED: "已分派",
    TicketStatus.IN_PROGRESS: "核实整改中",
    TicketStatus.ESCALATED: "已升级",
    TicketStatus.RESOLVED: "已办结待回访",
    TicketStatus.CLOSED: "已关闭",
}
PRIORITY_LABELS = {TicketPriority.URGENT: "紧急", TicketPriority.HIGH: "高", TicketPriority.NORMAL: "一般"}


def _raise_if_more_pressing(
    session: Session, ticket: Ticket, priority: TicketPriority, reasons: Sequence[str], now: dt.datetime
) -> None:
    """Give ``ticket`` the higher ``priority``, its nearer deadline and the new reasons.

    A ticket already resolved or closed goes back to the queue as new: what the citizen
    said since (a threat after the call-back) is news its handler has not dealt with. This
    is the system's transition, outside the handlers' state machine, so it is logged as a
    status event without an actor, and its deadline counts afresh from now.
    """
    if PRIORITY_RANK[priority] >= PRIORITY_RANK[ticket.priority]:
        return
    session.add(
        TicketEvent(
            ticket=ticket,
            kind="priority",
            created_at=now,
            data={"from": ticket.priority.value, "to": priority.value, "reasons": list(reasons)},
        )
    )
    deadline = now + DEADLINES[priority]
    if ticket.status not in OPEN_TICKET_STATES:
        session.add(
            TicketEvent(
                ticket=ticket,
                kind="status",
                from_status=ticket.status,
                to_status=TicketStatus.NEW,
                note="新的预警，工单重新打开",
                created_at=now,
            )
        )
        ticket.status, ticket.resolved_at, ticket.closed_at = TicketStatus.NEW, None, None
    else:
        deadline = min(ticket.deadline_at, deadline)
    ticket.priority = priority
    ticket.deadline_at = deadline
    ticket.reasons = [*ticket.reasons, *(reason for reason in reasons if reason not in ticket.reasons)]
    ticket.updated_at = now
    session.flush()
    log.info("ticket %s raised to %s", ticket.id, priority)


def get_ticket_in_scope(session: Session, ticket_id: int, root: Unit) -> Ticket | None:
    """The ticket if it exists and lies in ``root``'s subtree (else None: no leaking)."""
    stmt = (
        select(Ticket)
        .join(Unit, Ticket.unit_id == Unit.id)
        .where(Ticket.id == ticket_id, in_subtree(Unit.path, root))
        .options(joinedload(Ticket.response).joinedload(Response.survey).joinedload(Survey.case).joinedload(Case.unit))
    )
    return session.scalars(stmt).unique().one_or_none()


def current_analysis(session: Session, response: Response) -> Analysis | None:
    """The current analysis of a response, if any."""
    stmt = select(Analysis).where(Analysis.response_id == response.id, Analysis.is_current.is_(True))
    return session.scalars(stmt).one_or_none()


@dataclass(frozen=True)
class SeenTicket:
    """What a user's page showed of a ticket when they chose a step.

    The lock keeps two handlers from both moving a ticket at once, but not one of them
    from acting on a page the other's action made out of date: 已分派 from a page that
    showed 待分派, after a colleague gave the ticket to someone else, would be a 改派
    nobody chose. So a step names what its page showed, and is refused if that changed.
    """

    status: TicketStatus
    assignee_id: int | None


def assignable_staff(session: Session, ticket: Ticket) -> list[User]:
    """Who may be given ``ticket`` to work: active handlers and admins whose scope holds its unit, by name."""
    stmt = (
        select(User)
        .where(
            User.unit_id.in_(ancestor_ids(ticket.unit)),
            User.role.in_(WORKING_ROLES),
            User.is_active.is_(True),
        )
        .order_by(User.display_name, User.id)
    )
    return list(session.scalars(stmt))


def change_ticket_status(
    session: Session,
    ticket: Ticket,
    target: TicketStatus,
    actor: User,
    now: dt.datetime,
    note: str = "",
    assignee: User | None = None,
    seen: SeenTicket | None = None,
) -> TicketEvent:
    """Move ``ticket`` to ``target`` (checked against the state machine) and log the event.

    The ticket is read again and locked first: two handlers acting on one ticket at the
    same moment must not both move it from the status they saw on their pages.

    Moving to ``assigned`` gives the ticket to ``assignee`` (one of :func:`assignable_staff`),
    by default to whoever already has it, else to ``actor``; an assigned ticket moved to
    ``assigned`` again is handed to someone else (改派), so it needs an ``assignee`` other
    than the one it has. The event names who got it. With ``seen``, a ticket whose status
    or holder is no longer what the user's page showed is refused (:class:`SeenTicket`).
    """
    session.refresh(ticket, ["status", "assignee_id"], with_for_update=True)
    if seen is not None and (ticket.status, ticket.assignee_id) != (seen.status, seen.assignee_id):
        raise ValidationError("status", "工单刚被他人更新，请查看最新状态后再操作")
    check_ticket_transition(ticket.status, target)
    note = storable_text(note)
    if target in {TicketStatus.RESOLVED, TicketStatus.CLOSED} and not note.strip():
        raise ValidationError("note", "办结或关闭时请填写处理情况")
    data: dict[str, Any] = {}
    if target is TicketStatus.ASSIGNED:
        holder = session.get(User, ticket.assignee_id) if ticket.assignee_id is not None else None
        given = assignee or holder or actor
        if given.id == ticket.assignee_id and ticket.status is TicketStatus.ASSIGNED:
            raise ValidationError("assignee", f"工单已经分派给{given.display_name}，改派请选择其他人")
        if given.id not in {user.id for user in assignable_staff(session, ticket)}:
            raise ValidationError("assignee", f"{given.display_name}不能办理这个单位的工单")
        ticket.assignee = given
        data = {"assignee_id": given.id, "assignee": given.display_name}
    event = TicketEvent(
        ticket=ticket,
        actor=actor,
        kind="status",
        from_status=ticket.status,
        to_status=target,
        note=note.strip(),
        created_at=now,
        data=data,
    )
    ticket.status = target
    ticket.updated_at = now
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    if target is TicketStatus.CLOSED:
        ticket.closed_at = now
    session.add(event)
    session.flush()
    return event


def reveal_citizen_phone(
    session: Session, ticket: Ticket, actor: User, now: dt.datetime, ip_address: str | None
) -> str:
    """The full phone number for a call-back; every reveal is audited (DESIGN.md, privacy).

    A number the retention purge forgot is not there to reveal (nor to audit a reveal of).
    """
    phone = ticket.response.survey.contact.phone_e164
    if is_purged_phone(phone):
        raise ValidationError("phone", "该群众的电话号码已按保留期限删除，无法查看")
    record_audit(
        session,
        actor_id=actor.id,
        action="phone.reveal",
        target_type="ticket",
        target_id=ticket.id,
        ip_address=ip_address,
        now=now,
    )
    return phone


def add_ticket_note(
    session: Session, ticket: Ticket, actor: User, now: dt.datetime, note: str, kind: str
) -> TicketEvent:
    """Record a note or a call-back (回访) on the ticket without changing its state."""
    text = storable_text(note).strip()
    if not text:
        raise ValidationError("note", "请填写内容")
    if kind not in {"note", "callback"}:
        raise ValidationError("kind", f"未知的记录类型：{kind}")
    event = TicketEvent(ticket=ticket, actor=actor, kind=kind, note=text, created_at=now)
    ticket.updated_at = now
    session.add(event)
    session.flush()
    return event


def recategorize_ticket(
    session: Session, ticket: Ticket, category: str, actor: User, now: dt.datetime, allowed: Sequence[str]
) -> TicketEvent:
    """Set the handler's category; the event is a training label for the category model."""
    if category not in allowed:
        raise ValidationError("category", f"未知的类别：{category}")
    data: dict[str, Any] = {"from": ticket.category, "to": category, "comment": ticket.response.comment}
    event = TicketEvent(ticket=ticket, actor=actor, kind=RECATEGORIZED, note="", data=data, created_at=now)
    ticket.category = category
    ticket.updated_at = now
    session.add(event)
    session.flush()
    return event
