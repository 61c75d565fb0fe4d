"""The analysis job's tickets: opened once, raised (or reopened) by a later analysis, due from the answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import analyze_pending_responses, rescore_batches, store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Case, Channel, Response, Survey, Ticket, TicketEvent, TicketPriority, User
from surveys.states import TicketStatus
from surveys.ticket_queue import queue_page
from surveys.triage import DEADLINES, change_ticket_status

THREAT = "民警威胁我说要打死我，救命"


def _answer(session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], **answer) -> Response:  # type: ignore[no-untyped-def]
    survey = make_survey(case=make_case())
    return submit_answer(session, survey, AnswerInput(**answer), Channel.SMS, survey.sent_at)


def _ticket(session: Session, response: Response) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.response_id == response.id)).one_or_none()


def test_a_later_urgent_comment_raises_the_ticket(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], now: dt.datetime
):
    response = _answer(session, make_survey, make_case, overall=2)  # an SMS "2"
    assert analyze_pending_responses(session, get_default_analyzer(), now) == 1
    ticket = _ticket(session, response)
    assert ticket is not None
    assert ticket.priority is TicketPriority.NORMAL
    response.comment, response.is_analyzed = THREAT, False  # the SMS follow-up (surveys.replies)
    later = now + dt.timedelta(hours=2)
    assert analyze_pending_responses(session, get_default_analyzer(), later) == 1
    assert ticket.priority is TicketPriority.URGENT
    assert ticket.deadline_at == later + DEADLINES[TicketPriority.URGENT]
    assert any(reason.startswith("预警") for reason in ticket.reasons)
    assert "不满意" in ticket.reasons
    [raised] = session.scalars(select(TicketEvent).where(TicketEvent.ticket == ticket, TicketEvent.kind == "priority"))
    assert (raised.data["from"], raised.data["to"]) == ("normal", "urgent")


def test_rescoring_opens_the_ticket_a_newer_analysis_calls_for(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], now: dt.datetime
):
    response = _answer(session, make_survey, make_case, overall=4, comment=THREAT)
    older = dataclasses.replace(get_default_analyzer().analyze(THREAT), urgency_flags=(), model_version="older")
    store_analysis(session, response, older, now)  # an older model saw nothing urgent
    assert _ticket(session, response) is None
    assert list(rescore_batches(session, get_default_analyzer(), now)) == [1]
    ticket = _ticket(session, response)
    assert ticket is not None
    assert ticket.priority is TicketPriority.URGENT


def test_the_deadline_counts_from_the_answer_not_from_the_analysis(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], now: dt.datetime
):
    response = _answer(session, make_survey, make_case, overall=1, comment="我不想活了")
    backlog = response.submitted_at + dt.timedelta(hours=30)  # the scheduler was down
    analyze_pending_responses(session, get_default_analyzer(), backlog)
    ticket = _ticket(session, response)
    assert ticket is not None
    assert ticket.deadline_at == response.submitted_at + DEADLINES[TicketPriority.URGENT]
    assert ticket.created_at == backlog


def test_an_urgent_comment_after_the_ticket_was_closed_reopens_it(
    session: Session,
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    now: dt.datetime,
):
    response = _answer(session, make_survey, make_case, overall=2)
    analyze_pending_responses(session, get_default_analyzer(), now)
    ticket = _ticket(session, response)
    assert ticket is not None
    handler = make_user()
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED):
        change_ticket_status(session, ticket, status, handler, now, note="已回访，群众表示理解")
    response.comment, response.is_analyzed = THREAT, False  # the SMS follow-up, days later
    later = now + dt.timedelta(days=3)
    analyze_pending_responses(session, get_default_analyzer(), later)
    assert ticket.status is TicketStatus.NEW
    assert ticket.priority is TicketPriority.URGENT
    assert (ticket.resolved_at, ticket.closed_at) == (None, None)
    assert ticket.deadline_at == later + DEADLINES[TicketPriority.URGENT]
    assert ticket in queue_page(session, ticket.unit).tickets
    reopened = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket == ticket, TicketEvent.to_status == TicketStatus.NEW)
    ).all()
    assert [(event.from_status, event.actor) for event in reopened] == [(None, None), (TicketStatus.CLOSED, None)]
