"""The state machines of surveys and tickets (DESIGN.md, "The flow, and the states").

Transitions are data so that services, tests and documentation read the same table.
"""

from __future__ import annotations

import enum

from surveys.errors import InvalidTransitionError


class SurveyStatus(enum.StrEnum):
    """Where a survey is between planning and the citizen's answer."""

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    REMINDED = "reminded"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


_S = SurveyStatus
SURVEY_TRANSITIONS: dict[SurveyStatus, frozenset[SurveyStatus]] = {
    _S.PLANNED: frozenset({_S.SENDING, _S.SKIPPED, _S.OPTED_OUT, _S.EXPIRED}),
    # A send retried after a transient error goes back to planned with a later due time.
    _S.SENDING: frozenset({_S.SENT, _S.FAILED, _S.UNKNOWN, _S.PLANNED}),
    _S.SENT: frozenset({_S.DELIVERED, _S.FAILED, _S.OPENED, _S.REMINDED, _S.ANSWERED, _S.EXPIRED, _S.OPTED_OUT}),
    _S.DELIVERED: frozenset({_S.OPENED, _S.REMINDED, _S.ANSWERED, _S.EXPIRED, _S.OPTED_OUT}),
    _S.OPENED: frozenset({_S.REMINDED, _S.ANSWERED, _S.EXPIRED, _S.OPTED_OUT}),
    _S.REMINDED: frozenset({_S.OPENED, _S.ANSWERED, _S.EXPIRED, _S.OPTED_OUT}),
    _S.ANSWERED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.FAILED: frozenset(),
    _S.OPTED_OUT: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.UNKNOWN: frozenset(),
}

#: States in which the citizen can still answer.
ANSWERABLE_SURVEY_STATES = frozenset({_S.SENT, _S.DELIVERED, _S.OPENED, _S.REMINDED})


def check_survey_transition(current: SurveyStatus, target: SurveyStatus) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in SURVEY_TRANSITIONS[current]:
        raise InvalidTransitionError("survey", current, target)


class TicketStatus(enum.StrEnum):
    """The triage workflow of a complaint ticket (核实、整改、回访)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


_T = TicketStatus
TICKET_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    _T.NEW: frozenset({_T.ASSIGNED, _T.IN_PROGRESS, _T.ESCALATED}),
    _T.ASSIGNED: frozenset({_T.IN_PROGRESS, _T.ESCALATED, _T.ASSIGNED}),
    _T.IN_PROGRESS: frozenset({_T.RESOLVED, _T.ESCALATED}),
    _T.ESCALATED: frozenset({_T.ASSIGNED, _T.IN_PROGRESS, _T.RESOLVED}),
    _T.RESOLVED: frozenset({_T.CLOSED, _T.IN_PROGRESS}),
    _T.CLOSED: frozenset(),
}

OPEN_TICKET_STATES = frozenset({_T.NEW, _T.ASSIGNED, _T.IN_PROGRESS, _T.ESCALATED})


def check_ticket_transition(current: TicketStatus, target: TicketStatus) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in TICKET_TRANSITIONS[current]:
        raise InvalidTransitionError("ticket", current, target)
