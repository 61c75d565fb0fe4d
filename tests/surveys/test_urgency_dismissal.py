"""A handler's verdict that a ticket's urgent flags are false alarms (预警误报)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp import UrgencyFlag, get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.errors import ValidationError
from surveys.models import Channel, Survey, Ticket, TicketEvent, TicketPriority, User
from surveys.training_data import urgency_rows
from surveys.triage import (
    DEADLINES,
    DISMISSED_REASON,
    URGENCY_DISMISSED,
    dismiss_urgent_flags,
    open_ticket_if_needed,
)

PRAISE = "事后想给民警包个红包，他们坚决不收"
FALSE_ALARM = UrgencyFlag(kind="integrity", label="廉洁问题举报（模型）", evidence="包个红包")
THREAT = UrgencyFlag(kind="threat", label="扬言报复/威胁人身", evidence="弄死")


@pytest.fixture
def flagged(session: Session, make_survey: Callable[..., Survey], now: dt.datetime) -> Callable[..., Ticket]:
    """``flagged(overall, *flags)``: the urgent ticket of an answer whose analysis raised ``flags``."""

    def factory(overall: int = 4, *flags: UrgencyFlag) -> Ticket:
        response = submit_answer(session, make_survey(), AnswerInput(overall=overall, comment=PRAISE), Channel.WEB, now)
        result = dataclasses.replace(get_default_analyzer().analyze(PRAISE), urgency_flags=flags or (FALSE_ALARM,))
        ticket = open_ticket_if_needed(session, response, store_analysis(session, response, result, now), now)
        assert ticket is not None
        assert ticket.priority is TicketPriority.URGENT
        return ticket

    return factory


def _reanalyse(session: Session, ticket: Ticket, now: dt.datetime, *flags: UrgencyFlag) -> None:
    """A later analysis of the same answer (a rescore) raising ``flags``."""
    result = dataclasses.replace(get_default_analyzer().analyze(PRAISE), urgency_flags=flags, model_version="newer")
    open_ticket_if_needed(session, ticket.response, store_analysis(session, ticket.response, result, now), now)


def test_dismissing_takes_the_ticket_out_of_the_urgent_lane(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    handler = make_user()
    event = dismiss_urgent_flags(session, ticket, handler, now, "  群众是在表扬民警拒收红包  ")
    assert ticket.priority is TicketPriority.NORMAL  # a 4-star answer: nothing else calls for more
    assert ticket.deadline_at == ticket.response.submitted_at + DEADLINES[TicketPriority.NORMAL]
    assert not any(reason.startswith("预警") and reason != DISMISSED_REASON for reason in ticket.reasons)
    assert DISMISSED_REASON in ticket.reasons
    assert (event.kind, event.actor, event.note) == (URGENCY_DISMISSED, handler, "群众是在表扬民警拒收红包")
    assert event.data["kinds"] == ["integrity"]
    assert (event.data["from"], event.data["to"]) == ("urgent", "normal")
    assert list(urgency_rows(session)) == [(PRAISE, "0")]


def test_a_low_rating_keeps_its_own_priority(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(1)
    dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    assert ticket.priority is TicketPriority.HIGH
    assert "非常不满意" in ticket.reasons


def test_a_rescore_raises_the_ticket_only_for_a_kind_not_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    dismiss_urgent_flags(session, ticket, make_user(), now, "误报")
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), FALSE_ALARM)
    assert ticket.priority is TicketPriority.NORMAL
    _reanalyse(session, ticket, now + dt.timedelta(hours=2), FALSE_ALARM, THREAT)
    assert ticket.priority is TicketPriority.URGENT
    raised = session.scalars(select(TicketEvent).where(TicketEvent.ticket == ticket, TicketEvent.kind == "priority"))
    assert [event.data["to"] for event in raised] == ["urgent"]


@pytest.mark.parametrize("note", ["", "   "])
def test_the_reason_is_required(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime, note: str
):
    ticket = flagged(4)
    with pytest.raises(ValidationError) as refused:
        dismiss_urgent_flags(session, ticket, make_user(), now, note)
    assert refused.value.field == "note"
    assert ticket.priority is TicketPriority.URGENT


def test_a_ticket_without_urgent_flags_cannot_be_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    handler = make_user()
    dismiss_urgent_flags(session, ticket, handler, now, "误报")
    with pytest.raises(ValidationError) as refused:  # once is enough
        dismiss_urgent_flags(session, ticket, handler, now, "又一次")
    assert refused.value.field == "urgency"
    assert list(urgency_rows(session)) == [(PRAISE, "0")]


def test_a_follow_up_comment_is_judged_afresh(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    ticket = flagged(4)
    dismiss_urgent_flags(session, ticket, make_user(), now, "表扬，误报")
    ticket.response.comment = PRAISE + "。后来另一个民警收了我两千块"  # the SMS follow-up (surveys.replies)
    _reanalyse(session, ticket, now + dt.timedelta(hours=1), FALSE_ALARM)
    assert ticket.priority is TicketPriority.URGENT


def test_a_self_harm_flag_is_never_dismissed(
    session: Session, flagged: Callable[..., Ticket], make_user: Callable[..., User], now: dt.datetime
):
    self_harm = UrgencyFlag(kind="self_harm", label="自伤自杀风险", evidence="不想活")
    ticket = flagged(5, FALSE_ALARM, self_harm)
    with pytest.raises(ValidationError) as refused:
        dismiss_urgent_flags(session, ticket, make_user(), now, "群众说的是以前的事")
    assert "回访核实" in refused.value.reason
    assert ticket.priority is TicketPriority.URGENT
    assert list(urgency_rows(session)) == []
