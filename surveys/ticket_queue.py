"""The handlers' ticket queue: open tickets of a unit subtree, filtered, counted and paged.

Resolved tickets awaiting their call-back are reached by a status filter or a search.

A module of its own, beside :mod:`surveys.triage`, because the 待复核 filter needs
:func:`surveys.urgency_dismissal.pending_dismissal_proposals`, and that module is built
on :mod:`surveys.triage`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from nlp.normalize import to_simplified, to_traditional
from surveys.models import Case, Response, Survey, Ticket, TicketEvent, TicketPriority, Unit
from surveys.paging import clamp_page
from surveys.states import OPEN_TICKET_STATES, TicketStatus
from surveys.text import NOT_ONE_LINE
from surveys.triage import PRIORITY_RANK
from surveys.units import in_subtree
from surveys.urgency_dismissal import URGENCY_DISMISSAL_PROPOSED, VERDICT_KINDS, pending_dismissal_proposals

#: Tickets on one page of the queue: a few screens on a phone, one query of joined rows.
QUEUE_PAGE_SIZE = 50
#: The largest ticket number (``tickets.id`` is an INTEGER on PostgreSQL): a longer number
#: searched for is no ticket's, and must not reach the driver (an overflow there, not "none").
MAX_TICKET_ID = 2**31 - 1
#: What a searched case number is compared with, for the ticket in the outer query.
#: A correlated subquery rather than a join, so the database looks up the case of each
#: open ticket in scope (thousands) instead of possibly reading every case (millions).
_CASE_NUMBER = (
    select(Case.external_no)
    .join(Survey, Survey.case_id == Case.id)
    .join(Response, Response.survey_id == Survey.id)
    .where(Response.id == Ticket.response_id)
    .scalar_subquery()
)
#: The citizen's comment on the ticket's answer, for a search by words (same reasoning).
_COMMENT = select(Response.comment).where(Response.id == Ticket.response_id).scalar_subquery()
#: The kind of the ticket's most recent verdict on its urgent flags (NULL: none yet).
_LAST_VERDICT_KIND = (
    select(TicketEvent.kind)
    .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind.in_(VERDICT_KINDS))
    .order_by(TicketEvent.id.desc())
    .limit(1)
    .scalar_subquery()
)
_PRIORITY_ORDER = case(PRIORITY_RANK, value=Ticket.priority)


@dataclass(frozen=True)
class QueueFilter:
    """What a handler narrows the queue to; the defaults leave every open ticket of the scope.

    Each field narrows further (they combine with AND), always inside the scope the
    query is given: a ``unit`` outside it selects nothing rather than widening it.
    """

    priority: TicketPriority | None = None
    #: One status of :data:`QUEUE_STATES` (a closed one selects nothing). Without it the
    #: open tickets, and for a search those awaiting their call-back too.
    status: TicketStatus | None = None
    #: A unit of the scope: its subtree only.
    unit: Unit | None = None
    #: Only tickets whose deadline passed before this moment.
    overdue_at: dt.datetime | None = None
    assignee_id: int | None = None
    #: Only tickets with a proposed 误报 awaiting a second person (see :func:`queue_page`).
    is_awaiting_review: bool = False
    #: A ticket number (``155``, ``#155``), a case number or its beginning, or words of
    #: the citizen's comment (see :func:`_search_condition`).
    search: str = ""


#: No filter: every open ticket of the scope.
UNFILTERED = QueueFilter()
#: What the queue can list: the open tickets, and the resolved ones whose call-back
#: (回访) is still due before they are closed. Only a status filter or a search shows the
#: latter: their resolution deadline has passed or no longer matters, so among the open
#: tickets' deadlines they would only crowd the top of the queue.
QUEUE_STATES = OPEN_TICKET_STATES | {TicketStatus.RESOLVED}
#: Resolved tickets awaiting their call-back (the queue's 已办结待回访 link).
AWAITING_CALLBACK = QueueFilter(status=TicketStatus.RESOLVED)


def queue_query(root: Unit, filters: QueueFilter = UNFILTERED) -> Select[tuple[Ticket]]:
    """The queue's tickets in ``root``'s subtree matching ``filters``, the most urgent and nearest deadline first.

    With ``is_awaiting_review`` this selects the candidates only: the tickets whose last
    verdict is a proposal (:func:`queue_page` applies the rest of the rule).
    """
    return (
        select(Ticket)
        .join(Unit, Ticket.unit_id == Unit.id)
        .where(*_conditions(root, filters))
        .order_by(_PRIORITY_ORDER, Ticket.deadline_at, Ticket.id)
        .options(
            joinedload(Ticket.unit),
            joinedload(Ticket.assignee),
            joinedload(Ticket.response).joinedload(Response.survey).joinedload(Survey.case),
        )
    )


def count_tickets(session: Session, root: Unit, filters: QueueFilter = UNFILTERED) -> int:
    """How many tickets in ``root``'s subtree match ``filters`` (candidates, as :func:`queue_query`)."""
    stmt = select(func.count(Ticket.id)).join(Unit, Ticket.unit_id == Unit.id).where(*_conditions(root, filters))
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class QueuePage:
    """One page of the filtered queue, and where it stands in the whole."""

    tickets: list[Ticket]
    #: Every ticket matching the filters, on any page.
    total: int
    #: This page's number, from 1 (a number past the end shows the last page).
    number: int
    #: At least 1: an empty queue is one empty page.
    page_count: int
    #: The proposals awaiting a second person (待复核) among ``tickets``, by ticket id.
    awaiting_review: dict[int, TicketEvent]


def queue_page(
    session: Session,
    root: Unit,
    filters: QueueFilter = UNFILTERED,
    number: int = 1,
    page_size: int | None = None,
) -> QueuePage:
    """Page ``number`` of the queue's tickets in ``root``'s subtree that match ``filters``.

    One count and one page query (its rows joined with their unit, assignee and case),
    then the 待复核 marker for the page's tickets.

    Whether a proposal still awaits its second person is decided in one place,
    :func:`surveys.urgency_dismissal.pending_dismissal_proposals`: a proposal lapses when
    the comment or the flags it judged have changed since, which is a comparison of JSON
    event data with the current answer and analysis that SQL would have to repeat. So
    the 待复核 filter selects in SQL what is certain, the tickets whose last verdict
    is a proposal, and then lets that function decide, counting and paging in Python.
    The candidates are few (urgent tickets waiting for a colleague's confirmation), and a
    lapsed proposal rarer still, so loading them all costs what loading one page does.

    ``page_size`` is :data:`QUEUE_PAGE_SIZE` unless given.
    """
    page_size = page_size or QUEUE_PAGE_SIZE
    if filters.is_awaiting_review:
        pending, matching = _awaiting_review(session, root, filters)
        number, page_count = clamp_page(number, len(matching), page_size)
        tickets = matching[(number - 1) * page_size : number * page_size]
        return QueuePage(tickets, len(matching), number, page_count, {t.id: pending[t.id] for t in tickets})
    total = count_tickets(session, root, filters)
    number, page_count = clamp_page(number, total, page_size)
    stmt = queue_query(root, filters).limit(page_size).offset((number - 1) * page_size)
    tickets = list(session.scalars(stmt).unique())
    return QueuePage(tickets, total, number, page_count, pending_dismissal_proposals(session, tickets))


def matching_tickets(session: Session, root: Unit, filters: QueueFilter, batch_size: int) -> Iterable[Ticket]:
    """Every ticket of the queue in ``root``'s subtree matching ``filters``, in queue order, for an export.

    Read ``batch_size`` rows at a time, so memory stays bounded however many there are,
    except for the 待复核 filter, whose few candidates are decided as :func:`queue_page` does.
    """
    if filters.is_awaiting_review:
        return _awaiting_review(session, root, filters)[1]
    return session.scalars(queue_query(root, filters).execution_options(yield_per=batch_size))


def _awaiting_review(session: Session, root: Unit, filters: QueueFilter) -> tuple[dict[int, TicketEvent], list[Ticket]]:
    """The pending proposals by ticket id, and the matching tickets that have one, in queue order."""
    candidates = list(session.scalars(queue_query(root, filters)).unique())
    pending = pending_dismissal_proposals(session, candidates)
    return pending, [ticket for ticket in candidates if ticket.id in pending]


def _conditions(root: Unit, filters: QueueFilter) -> list[ColumnElement[bool]]:
    """The WHERE of the queue, over ``tickets`` joined to their ``units``."""
    search = _search_condition(filters.search)
    if filters.status is not None:
        statuses = QUEUE_STATES & {filters.status}
    else:
        statuses = QUEUE_STATES if search is not None else OPEN_TICKET_STATES
    conditions = [in_subtree(Unit.path, root), Ticket.status.in_(statuses) if statuses else false()]
    if filters.priority is not None:
        conditions.append(Ticket.priority == filters.priority)
    if filters.unit is not None:
        conditions.append(in_subtree(Unit.path, filters.unit))
    if filters.overdue_at is not None:  # a resolved ticket's deadline has been met
        conditions.extend((Ticket.deadline_at < filters.overdue_at, Ticket.status.in_(OPEN_TICKET_STATES)))
    if filters.assignee_id is not None:
        conditions.append(Ticket.assignee_id == filters.assignee_id)
    if filters.is_awaiting_review:
        conditions.append(_LAST_VERDICT_KIND == URGENCY_DISMISSAL_PROPOSED)
    if search is not None:
        conditions.append(search)
    return conditions


def _search_condition(search: str) -> ColumnElement[bool] | None:
    """Tickets a handler's search names.

    - ``#155``: ticket 155;
    - ``155``, ``A-2026``: that ticket, or the case numbers starting so (ignoring letter
      case): a search of letters, digits and signs only (no space) is a number;
    - anything else, such as ``噪音`` or ``电动车 被盗``: the comments holding it, in either
      script, when it has no digit. A comment's phone and ID numbers are masked on every
      page and shown in full only by an audited reveal; matching digits against the stored
      comment would let a search confirm them one digit at a time (``电话是1``, ``电话是13`` …).

    ``%`` and ``_`` are taken literally. Full-width characters (a Chinese input method's
    ＃１５５) count as their ASCII forms; control characters (PostgreSQL refuses a NUL)
    are dropped.
    """
    term = _search_term(search)
    if not term:
        return None
    if term.startswith("#"):
        ticket_id = _ticket_id(term[1:])
        return false() if ticket_id is None else Ticket.id == ticket_id
    if _searches_comment(term):
        return false() if _has_digit(term) else _comment_holds(term)
    by_case_number = _CASE_NUMBER.istartswith(term, autoescape=True)
    ticket_id = _ticket_id(term)
    return by_case_number if ticket_id is None else or_(Ticket.id == ticket_id, by_case_number)


def _comment_holds(words: str) -> ColumnElement[bool]:
    """The comment holds ``words`` as typed, in Simplified or in Traditional characters.

    A citizen on a Hong Kong or Taiwan input method writes 電動車, the handler searches 电动车.
    """
    spellings = sorted({words, to_simplified(words), to_traditional(words)})
    return or_(*(_COMMENT.contains(spelling, autoescape=True) for spelling in spellings))


def searches_comment_digits(search: str) -> bool:
    """Whether ``search`` looks for digits in comments, which finds nothing (:func:`_search_condition`)."""
    term = _search_term(search)
    return bool(term) and _searches_comment(term) and _has_digit(term)


def _search_term(search: str) -> str:
    return NOT_ONE_LINE.sub("", unicodedata.normalize("NFKC", search)).strip()


def _searches_comment(term: str) -> bool:
    """Whether a non-empty ``term`` is looked for in comments: neither ``#155`` nor a number (:func:`_is_number`)."""
    return not term.startswith("#") and not _is_number(term)


def _has_digit(term: str) -> bool:
    return any(char.isdigit() for char in term)


def _is_number(term: str) -> bool:
    """Whether ``term`` reads as a ticket or case number: printable ASCII without a space."""
    return term.isascii() and term.isprintable() and " " not in term


def _ticket_id(text: str) -> int | None:
    """``text`` as a number a ticket can have, else None."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_TICKET_ID))):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_TICKET_ID else None
