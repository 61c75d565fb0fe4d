"""Urgent flags found to be false alarms (预警误报), and the second person some of them need.

One handler's verdict dismisses most flags at once. For a threat or harm to a person it
is only a proposal until a different handler or administrator confirms it (四眼原则);
until then the ticket stays urgent. Proposals, confirmations and rejections are ticket
events (no table or ticket state of their own): the ticket's last verdict event says
whether a proposal is waiting, and the history shows every step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit import record_audit
from surveys.errors import ValidationError
from surveys.models import Analysis, Response, Ticket, TicketEvent, TicketPriority, User
from surveys.text import storable_text
from surveys.triage import (
    DEADLINES,
    URGENCY_DISMISSED,
    URGENT_REASON_PREFIX,
    current_analysis,
    judged_current_comment,
    ticket_reasons,
)

#: The reason a ticket keeps once its urgent flags were found to be false alarms.
DISMISSED_REASON = "预警经核实为误报"
#: Flags no one dismisses from a desk: a hint of self-harm is called back and worked through.
NOT_DISMISSIBLE = frozenset({"self_harm"})
#: Flags whose dismissal one handler proposes and another person confirms (see
#: :func:`dismissal_needs_confirmation` for why these).
NEEDS_CONFIRMATION = frozenset({"threat", "violence", "domestic_violence"})
#: Event kinds of the two-person dismissal; their data names the flag kinds and labels.
URGENCY_DISMISSAL_PROPOSED = "urgency_dismissal_proposed"
URGENCY_DISMISSAL_REJECTED = "urgency_dismissal_rejected"
#: Every verdict on a ticket's urgent flags: the last one says whether a proposal is waiting.
VERDICT_KINDS = (URGENCY_DISMISSED, URGENCY_DISMISSAL_PROPOSED, URGENCY_DISMISSAL_REJECTED)


def _dismissal_refused(ticket: Ticket, analysis: Analysis | None) -> str | None:
    """Why the ticket's urgent flags cannot be marked as false alarms, or None if they can."""
    if ticket.priority is not TicketPriority.URGENT or analysis is None or not analysis.is_urgent:
        return "这个工单没有待核实的预警"
    if _flag_kinds(analysis) & NOT_DISMISSIBLE:
        return "自伤自杀风险预警不能标记为误报：请回访核实后按流程办结"
    return None


def urgency_dismissible(ticket: Ticket, analysis: Analysis | None) -> bool:
    """Whether a handler may mark (or propose to mark) the ticket's urgent flags as false alarms."""
    return _dismissal_refused(ticket, analysis) is None


def dismissal_needs_confirmation(analysis: Analysis | None) -> bool:
    """Whether dismissing the analysis's flags takes a second person: a threat or harm to a person.

    A wrong "false alarm" on a threat (扬言报复, 要弄死), on violence, or on domestic
    violence leaves someone in danger: the person threatened, the one beaten, the one
    beaten at home (家暴 repeats and grows, and its victims often play it down when called
    back). Domestic violence is violence inside a family, so it is counted with violence.
    One handler's misreading there must not be enough. An integrity (红包) or escalation
    (上访) flag keeps the one-step verdict: dismissing one wrongly costs a late inquiry or
    an unannounced petition, not a person's safety, and the ticket stays open and is
    worked and called back either way. Self-harm is never dismissed (NOT_DISMISSIBLE).
    """
    return analysis is not None and bool(_flag_kinds(analysis) & NEEDS_CONFIRMATION)


def _flag_kinds(analysis: Analysis) -> set[str]:
    return {str(flag["kind"]) for flag in analysis.urgency_flags}


def _is_pending(verdict: TicketEvent, ticket: Ticket, analysis: Analysis | None) -> bool:
    """Whether ``verdict``, the ticket's last one, is a proposal still awaiting its second person.

    As with a dismissal (:func:`surveys.triage.dismissed_urgency_kinds`), a proposal is
    about the words and flags its proposer read: once the comment has changed (an SMS
    follow-up) or a later analysis flags a kind it did not cover, confirming it would
    dismiss what nobody has judged, so it lapses and the flags need a fresh proposal.
    """
    return (
        verdict.kind == URGENCY_DISMISSAL_PROPOSED
        and analysis is not None
        and _dismissal_refused(ticket, analysis) is None
        and judged_current_comment(verdict.data, ticket.response)
        and _flag_kinds(analysis) <= set(verdict.data.get("kinds", ()))
    )


def pending_dismissal_proposals(session: Session, tickets: Sequence[Ticket]) -> dict[int, TicketEvent]:
    """The proposals among ``tickets`` that await a second person (待复核), by ticket id.

    At most two queries whatever the number of tickets, for the queue's marker: only urgent
    tickets can have one, and a ticket's verdict events are few.
    """
    urgent = {ticket.id: ticket for ticket in tickets if ticket.priority is TicketPriority.URGENT}
    if not urgent:
        return {}
    verdicts_stmt = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id.in_(urgent), TicketEvent.kind.in_(VERDICT_KINDS))
        .order_by(TicketEvent.id)
    )
    last = {event.ticket_id: event for event in session.scalars(verdicts_stmt)}
    proposals = {ticket_id: event for ticket_id, event in last.items() if event.kind == URGENCY_DISMISSAL_PROPOSED}
    if not proposals:
        return {}
    response_ids = [urgent[ticket_id].response_id for ticket_id in proposals]
    analyses_stmt = select(Analysis).where(Analysis.response_id.in_(response_ids), Analysis.is_current.is_(True))
    analyses = {analysis.response_id: analysis for analysis in session.scalars(analyses_stmt)}
    return {
        ticket_id: proposal
        for ticket_id, proposal in proposals.items()
        if _is_pending(proposal, urgent[ticket_id], analyses.get(urgent[ticket_id].response_id))
    }


def pending_dismissal_proposal(session: Session, ticket: Ticket) -> TicketEvent | None:
    """The ticket's proposal awaiting a second person, if any."""
    return pending_dismissal_proposals(session, [ticket]).get(ticket.id)


def dismiss_urgent_flags(session: Session, ticket: Ticket, actor: User, now: dt.datetime, note: str) -> TicketEvent:
    """Record a handler's verdict that the ticket's urgent flags are false alarms (预警误报).

    Recall comes first in the urgency screen, so a handler reads flags that are not
    urgent at all (拒收红包 is praise). The verdict takes the ticket out of the urgent
    lane (except a self-harm flag, which is always called back and worked through): its
    priority and deadline become what the rating and the comment call for
    (normal at least; the ticket stays open to be worked and closed like any other), and
    the 预警 reasons give way to one that says they were dismissed. The analysis is kept.
    The dismissed kinds are remembered with the comment, so a later analysis of the same
    words flagging only those kinds (a rescore) does not raise the ticket again, while a
    follow-up that changes the comment is judged afresh; and the comment becomes
    a "not urgent" label for the urgency model (:func:`surveys.training_data.urgency_rows`).

    For a threat or harm to a person (:func:`dismissal_needs_confirmation`) the verdict is
    only a proposal: the ticket stays as it is until another person confirms it
    (:func:`confirm_urgency_dismissal`) or rejects it (:func:`reject_urgency_dismissal`).
    """
    text = _required_note(note, "请说明为何判断为误报")
    analysis = _locked_dismissible_analysis(session, ticket)
    if not dismissal_needs_confirmation(analysis):
        return _dismiss(session, ticket, analysis, actor, now, text)
    if pending_dismissal_proposal(session, ticket) is not None:
        raise ValidationError("urgency", "已有待复核的误报提议：请确认或驳回它")
    data = {**_flags_data(analysis), "comment": ticket.response.comment}
    event = _add_event(session, ticket, actor, now, URGENCY_DISMISSAL_PROPOSED, text, data)
    _audit(session, actor, now, "urgency.propose_dismissal", event)
    return event


def confirm_urgency_dismissal(
    session: Session, ticket: Ticket, actor: User, now: dt.datetime, proposal_id: int, note: str = ""
) -> TicketEvent:
    """A second person confirms the proposal they read, which then takes effect as a one-step dismissal.

    The proposer's reason is on record; the confirmer may add their own. Confirming one's
    own proposal is refused: that is the one-person verdict the proposal exists to avoid.
    """
    text = storable_text(note).strip()
    analysis = _locked_dismissible_analysis(session, ticket)
    proposal = _pending_or_refused(session, ticket, proposal_id)
    if proposal.actor_id == actor.id:
        raise ValidationError("urgency", "不能确认自己提出的误报：须由另一名办理人员或管理员复核确认")
    return _dismiss(session, ticket, analysis, actor, now, text, proposal)


def reject_urgency_dismissal(
    session: Session, ticket: Ticket, actor: User, now: dt.datetime, proposal_id: int, note: str
) -> TicketEvent:
    """Withdraw a proposed dismissal, with the reason: the flags stand and the ticket stays urgent.

    Anyone working the ticket may reject, its proposer included (a withdrawal): keeping
    the flags is the safe direction and needs no second person.
    """
    text = _required_note(note, "请说明驳回理由")
    _locked_dismissible_analysis(session, ticket)
    proposal = _pending_or_refused(session, ticket, proposal_id)
    data = {
        "kinds": proposal.data["kinds"],
        "labels": proposal.data["labels"],
        "proposal_id": proposal.id,
        "withdrawn": proposal.actor_id == actor.id,
    }
    event = _add_event(session, ticket, actor, now, URGENCY_DISMISSAL_REJECTED, text, data)
    _audit(session, actor, now, "urgency.reject_dismissal", event)
    return event


def _required_note(note: str, missing: str) -> str:
    text = storable_text(note).strip()
    if not text:
        raise ValidationError("note", missing)
    return text


def _locked_dismissible_analysis(session: Session, ticket: Ticket) -> Analysis:
    """The answer and the ticket read again and locked, and the current analysis, if its flags may be dismissed.

    The answer is locked first, as the analysis and rescore jobs and an SMS follow-up
    lock it (they then open or raise the ticket): a verdict waits for a re-analysis in
    progress and judges the flags and comment it leaves, instead of dismissing the old
    flags while a new one (a self-harm hint) is being stored. The ticket is locked as for
    a status change: two people acting on one ticket's flags at the same moment must not
    both act on what their pages showed (two dismissals, two proposals, a confirmation
    racing a rejection).
    """
    answer = select(Response).where(Response.id == ticket.response_id).with_for_update(of=Response)
    session.scalars(answer.execution_options(populate_existing=True)).one()
    session.refresh(ticket, ["priority", "reasons", "deadline_at"], with_for_update=True)
    analysis = current_analysis(session, ticket.response)
    refused = _dismissal_refused(ticket, analysis)
    if refused is not None:
        raise ValidationError("urgency", refused)
    assert analysis is not None  # noqa: S101  (narrowing: a ticket without an analysis is refused above)
    return analysis


def _pending_or_refused(session: Session, ticket: Ticket, proposal_id: int) -> TicketEvent:
    """The pending proposal, if it is the one the reviewer read (``proposal_id``).

    Between the page and the click the proposal may have been withdrawn and another made,
    with another reason or more flags: a review is of what the reviewer saw.
    """
    proposal = pending_dismissal_proposal(session, ticket)
    if proposal is None:
        raise ValidationError("urgency", "没有待复核的误报提议：可能已有人复核，或留言、预警已有变化")
    if proposal.id != proposal_id:
        raise ValidationError("urgency", "页面上的误报提议已被撤回或更换：请阅读最新的提议后再复核")
    return proposal


def _flags_data(analysis: Analysis) -> dict[str, Any]:
    return {
        "kinds": sorted(_flag_kinds(analysis)),
        "labels": list(dict.fromkeys(str(flag["label"]) for flag in analysis.urgency_flags)),
    }


def _dismiss(
    session: Session,
    ticket: Ticket,
    analysis: Analysis,
    actor: User,
    now: dt.datetime,
    note: str,
    proposal: TicketEvent | None = None,
) -> TicketEvent:
    """Take the ticket out of the urgent lane (see :func:`dismiss_urgent_flags`)."""
    flags = _flags_data(analysis)
    _, remaining = ticket_reasons(ticket.response, analysis, dismissed=flags["kinds"])
    priority = remaining or TicketPriority.NORMAL
    data = {**flags, "comment": ticket.response.comment, "from": ticket.priority.value, "to": priority.value}
    if proposal is not None:
        data["proposal_id"] = proposal.id
    ticket.priority = priority
    ticket.deadline_at = max(ticket.deadline_at, ticket.response.submitted_at + DEADLINES[priority])
    kept = [reason for reason in ticket.reasons if not reason.startswith(URGENT_REASON_PREFIX)]
    ticket.reasons = [*kept, DISMISSED_REASON]
    event = _add_event(session, ticket, actor, now, URGENCY_DISMISSED, note, data)
    _audit(session, actor, now, "urgency.dismiss" if proposal is None else "urgency.confirm_dismissal", event)
    return event


def _add_event(
    session: Session, ticket: Ticket, actor: User, now: dt.datetime, kind: str, note: str, data: dict[str, Any]
) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor=actor, kind=kind, note=note, data=data, created_at=now)
    ticket.updated_at = now
    session.add(event)
    session.flush()
    return event


def _audit(session: Session, actor: User, now: dt.datetime, action: str, event: TicketEvent) -> None:
    """Audit a step: switching off a threat or violence alarm is as accountable as a phone reveal."""
    detail = {"event_id": event.id, "kinds": event.data["kinds"]}
    record_audit(
        session,
        actor_id=actor.id,
        action=action,
        target_type="ticket",
        target_id=event.ticket_id,
        detail=detail,
        now=now,
    )
