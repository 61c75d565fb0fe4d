"""The handlers' queue: filters inside the scope, the count of every match, pages, and 待复核."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from nlp import UrgencyFlag, get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Case, Channel, Survey, Ticket, TicketPriority, Unit, User
from surveys.states import TicketStatus
from surveys.ticket_queue import QueueFilter, count_tickets, queue_page, searches_comment_digits
from surveys.triage import open_ticket_if_needed
from surveys.urgency_dismissal import (
    confirm_urgency_dismissal,
    dismiss_urgent_flags,
    pending_dismissal_proposals,
    reject_urgency_dismissal,
)
from tests.factories import Tree

THREAT = UrgencyFlag(kind="threat", label="扬言报复/威胁人身", evidence="弄死")


@pytest.fixture
def make_queued(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
) -> Callable[..., Ticket]:
    """``make_queued(unit, priority=…, status=…, deadline_at=…, assignee=…, case_no=…, comment=…)``: a stored ticket."""

    def factory(
        unit: Unit,
        priority: TicketPriority = TicketPriority.NORMAL,
        status: TicketStatus = TicketStatus.NEW,
        deadline_at: dt.datetime | None = None,
        assignee: User | None = None,
        case_no: str | None = None,
        comment: str = "等得太久",
    ) -> Ticket:
        case = make_case(unit=unit, **({"external_no": case_no} if case_no else {}))
        response = submit_answer(
            session, make_survey(case=case), AnswerInput(overall=2, comment=comment), Channel.WEB, now
        )
        ticket = Ticket(
            response=response,
            unit_id=unit.id,
            status=status,
            priority=priority,
            reasons=["不满意"],
            assignee=assignee,
            deadline_at=deadline_at or now + dt.timedelta(days=3),
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        return ticket

    return factory


@dataclasses.dataclass
class Scenario:
    """Open tickets of the city that differ in one way each, and some that are never queued."""

    units: Tree
    other_city: Unit
    handler: User
    tickets: dict[str, Ticket]


@pytest.fixture
def scenario(
    tree: Tree,
    make_unit: Callable[..., Unit],
    make_queued: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
) -> Scenario:
    units, other_city = tree, make_unit(name="宁波市公安局")
    handler, colleague = make_user(unit=units.city), make_user(unit=units.city)
    past = now - dt.timedelta(hours=1)
    tickets = {
        "urgent": make_queued(
            units.east_station, TicketPriority.URGENT, case_no="A-2026-001", comment="半夜噪音扰民，打了电话也没人管"
        ),
        "mine_overdue": make_queued(
            units.east_station, TicketPriority.HIGH, TicketStatus.IN_PROGRESS, past, handler, "A-2026-002", "電動車被盜"
        ),
        "west_overdue": make_queued(
            units.west, TicketPriority.NORMAL, TicketStatus.ASSIGNED, past, colleague, "B-2026-003", "被盗了%没人查"
        ),
        "underscore": make_queued(
            units.east, TicketPriority.NORMAL, TicketStatus.ESCALATED, case_no="A_2026-004", comment="反映\\/'\"😡问题"
        ),
    }
    make_queued(units.east_station, TicketPriority.URGENT, TicketStatus.CLOSED, case_no="A-2026-005", comment="噪音")
    make_queued(other_city, TicketPriority.URGENT, case_no="A-2026-006", comment="噪音")
    return Scenario(units, other_city, handler, tickets)


def _names(scenario: Scenario, filters: QueueFilter, session: Session) -> set[str]:
    listed = {ticket.id for ticket in queue_page(session, scenario.units.city, filters).tickets}
    return {name for name, ticket in scenario.tickets.items() if ticket.id in listed}


ALL = {"urgent", "mine_overdue", "west_overdue", "underscore"}
FILTERS: list[tuple[str, Callable[[Scenario, dt.datetime], dict[str, Any]], set[str]]] = [
    ("none", lambda s, now: {}, ALL),
    ("priority", lambda s, now: {"priority": TicketPriority.URGENT}, {"urgent"}),
    ("status", lambda s, now: {"status": TicketStatus.IN_PROGRESS}, {"mine_overdue"}),
    ("closed status", lambda s, now: {"status": TicketStatus.CLOSED}, set()),
    ("branch", lambda s, now: {"unit": s.units.east}, {"urgent", "mine_overdue", "underscore"}),
    ("station", lambda s, now: {"unit": s.units.east_station}, {"urgent", "mine_overdue"}),
    ("unit outside the scope", lambda s, now: {"unit": s.other_city}, set()),
    ("overdue", lambda s, now: {"overdue_at": now}, {"mine_overdue", "west_overdue"}),
    ("assignee", lambda s, now: {"assignee_id": s.handler.id}, {"mine_overdue"}),
    ("branch and overdue", lambda s, now: {"unit": s.units.east, "overdue_at": now}, {"mine_overdue"}),
    ("case number prefix", lambda s, now: {"search": "A-2026"}, {"urgent", "mine_overdue"}),
    ("case number, other letter case", lambda s, now: {"search": " a-2026-00 "}, {"urgent", "mine_overdue"}),
    ("whole case number", lambda s, now: {"search": "B-2026-003"}, {"west_overdue"}),
    ("underscore is literal", lambda s, now: {"search": "A_2026"}, {"underscore"}),
    ("percent is literal", lambda s, now: {"search": "%"}, set()),
    ("ticket number", lambda s, now: {"search": str(s.tickets["west_overdue"].id)}, {"west_overdue"}),
    ("#ticket number", lambda s, now: {"search": f"#{s.tickets['urgent'].id}"}, {"urgent"}),
    ("full-width #number", lambda s, now: {"search": f"＃{s.tickets['urgent'].id}"}, {"urgent"}),
    ("# is a ticket number only", lambda s, now: {"search": "#A-2026"}, set()),
    ("no ticket has so large a number", lambda s, now: {"search": "#99999999999"}, set()),
    ("nor so long a one", lambda s, now: {"search": "9" * 5000}, set()),
    ("control characters are dropped", lambda s, now: {"search": "A-2026-001\x00"}, {"urgent"}),
    ("words of the comment", lambda s, now: {"search": "噪音"}, {"urgent"}),
    ("words with a space", lambda s, now: {"search": "　没人管 "}, {"urgent"}),
    ("words, a percent sign found", lambda s, now: {"search": "了%没"}, {"west_overdue"}),
    ("words, a percent sign literal", lambda s, now: {"search": "盗%查"}, set()),
    ("Simplified words find a Traditional comment", lambda s, now: {"search": "电动车"}, {"mine_overdue"}),
    ("Traditional words find a Simplified comment", lambda s, now: {"search": "噪音擾民"}, {"urgent"}),
    ("words with a digit find nothing", lambda s, now: {"search": "被盗了1"}, set()),
    ("words with signs and emoji", lambda s, now: {"search": "反映\\/'\"😡"}, {"underscore"}),
    ("words are not a case number", lambda s, now: {"search": "A-2026 噪音"}, set()),
]


@pytest.mark.parametrize(("filters", "expected"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
def test_each_filter_narrows_the_open_tickets_of_the_scope(
    session: Session,
    scenario: Scenario,
    now: dt.datetime,
    filters: Callable[[Scenario, dt.datetime], dict[str, Any]],
    expected: set[str],
):
    chosen = QueueFilter(**filters(scenario, now))
    assert _names(scenario, chosen, session) == expected
    assert count_tickets(session, scenario.units.city, chosen) == len(expected)


def test_a_unit_filter_never_widens_a_narrower_scope(session: Session, scenario: Scenario):
    page = queue_page(session, scenario.units.east, QueueFilter(unit=scenario.units.city))
    assert {t.unit_id for t in page.tickets} == {scenario.units.east.id, scenario.units.east_station.id}
    assert page.total == 3


def test_the_total_counts_every_page_and_the_pages_keep_the_queue_order(
    session: Session, tree: Tree, make_queued: Callable[..., Ticket], now: dt.datetime
):
    soon, later = now + dt.timedelta(hours=1), now + dt.timedelta(days=2)
    ordered = [
        make_queued(tree.east, TicketPriority.URGENT, deadline_at=later),
        make_queued(tree.east, TicketPriority.HIGH, deadline_at=soon),
        make_queued(tree.east, TicketPriority.HIGH, deadline_at=later),
        make_queued(tree.east, TicketPriority.NORMAL, deadline_at=soon),
        make_queued(tree.east, TicketPriority.NORMAL, deadline_at=later),
    ]
    make_queued(tree.west, TicketPriority.URGENT)
    east = QueueFilter(unit=tree.east)
    pages = [queue_page(session, tree.city, east, number, page_size=2) for number in (1, 2, 3)]
    assert [page.tickets for page in pages] == [ordered[:2], ordered[2:4], ordered[4:]]
    assert {(page.total, page.page_count) for page in pages} == {(5, 3)}
    assert [page.number for page in pages] == [1, 2, 3]
    for number, shown in [(0, 1), (-4, 1), (4, 3), (10**30, 3)]:
        page = queue_page(session, tree.city, east, number, page_size=2)
        assert page.number == shown
        assert page.tickets == pages[shown - 1].tickets
    empty = queue_page(session, tree.city, QueueFilter(unit=tree.east_station))
    assert (empty.tickets, empty.total, empty.number, empty.page_count) == ([], 0, 1, 1)


@pytest.fixture
def make_flagged(
    session: Session,
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    tree: Tree,
    now: dt.datetime,
) -> Callable[[], Ticket]:
    """``make_flagged()``: the urgent ticket of a threat, whose dismissal takes a second person."""

    def factory() -> Ticket:
        comment = "他再来闹我就弄死他"
        survey = make_survey(case=make_case(unit=tree.east_station))
        response = submit_answer(session, survey, AnswerInput(overall=4, comment=comment), Channel.WEB, now)
        result = dataclasses.replace(get_default_analyzer().analyze(comment), urgency_flags=(THREAT,))
        ticket = open_ticket_if_needed(session, response, store_analysis(session, response, result, now), now)
        assert ticket is not None
        assert ticket.priority is TicketPriority.URGENT
        return ticket

    return factory


def test_the_review_filter_is_the_queues_marker(
    session: Session,
    tree: Tree,
    make_flagged: Callable[[], Ticket],
    make_queued: Callable[..., Ticket],
    make_user: Callable[..., User],
    now: dt.datetime,
):
    """Only proposals still awaiting a second person: not a lapsed, rejected or confirmed one."""
    proposer, reviewer = make_user(unit=tree.city), make_user(unit=tree.city)
    pending, other_pending, lapsed, rejected, confirmed, unjudged = (make_flagged() for _ in range(6))
    proposals = {t.id: dismiss_urgent_flags(session, t, proposer, now, "玩笑话") for t in (pending, other_pending)}
    dismiss_urgent_flags(session, lapsed, proposer, now, "玩笑话")
    lapsed.response.comment = "他再来闹我就弄死他，我说到做到"  # an SMS follow-up: the proposal judged other words
    proposal = dismiss_urgent_flags(session, rejected, proposer, now, "玩笑话")
    reject_urgency_dismissal(session, rejected, reviewer, now, proposal.id, "须回访核实")
    proposal = dismiss_urgent_flags(session, confirmed, proposer, now, "玩笑话")
    confirm_urgency_dismissal(session, confirmed, reviewer, now, proposal.id)
    make_queued(tree.east_station, TicketPriority.URGENT)
    session.flush()

    everything = queue_page(session, tree.city, QueueFilter(), page_size=100)
    assert set(everything.awaiting_review) == {pending.id, other_pending.id}
    assert pending_dismissal_proposals(session, everything.tickets) == everything.awaiting_review
    assert unjudged in everything.tickets

    review = QueueFilter(is_awaiting_review=True)
    first, second = (queue_page(session, tree.city, review, number, page_size=1) for number in (1, 2))
    assert [first.tickets, second.tickets] == [[pending], [other_pending]]  # same deadline: by number
    assert {(page.total, page.page_count) for page in (first, second)} == {(2, 2)}
    assert first.awaiting_review == {pending.id: proposals[pending.id]}
    elsewhere = queue_page(session, tree.city, dataclasses.replace(review, unit=tree.west))
    assert (elsewhere.tickets, elsewhere.total) == ([], 0)


@pytest.mark.parametrize(
    ("search", "expected"),
    [("电话是1", True), ("１３８号", True), ("噪音", False), ("13812345678", False), ("#12", False), ("", False)],
)
def test_a_search_of_comment_digits_is_told_apart(search: str, expected: bool):
    assert searches_comment_digits(search) is expected
