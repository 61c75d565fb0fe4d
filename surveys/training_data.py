"""Labelled rows the deployment produces itself, for retraining the NLP models.

Three sources, all free: the citizen's own rating labels their comment's sentiment
(1–2 negative, 3 neutral, 4–5 positive), every handler's re-categorisation of a ticket
labels that comment's complaint category (the latest correction wins), and a handler's
verdict that a ticket's urgent flags were false alarms labels its comment not urgent.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Response, TicketEvent
from surveys.triage import RECATEGORIZED, URGENCY_DISMISSED

SENTIMENT_BY_RATING = {1: "neg", 2: "neg", 3: "neu", 4: "pos", 5: "pos"}


def sentiment_rows(session: Session, batch_size: int = 2000) -> Iterator[tuple[str, str]]:
    """``(comment, pos|neu|neg)`` for every answer with a comment, streamed in batches."""
    stmt = (
        select(Response.comment, Response.overall)
        .where(Response.comment != "")
        .order_by(Response.id)
        .execution_options(yield_per=batch_size)
    )
    for comment, overall in session.execute(stmt):
        yield comment, SENTIMENT_BY_RATING[overall]


def category_rows(session: Session) -> Iterator[tuple[str, str]]:
    """``(comment, category)`` from handlers' re-categorisations, the latest per ticket."""
    stmt = (
        select(TicketEvent.ticket_id, TicketEvent.data)
        .where(TicketEvent.kind == RECATEGORIZED)
        .order_by(TicketEvent.id)
    )
    latest: dict[int, tuple[str, str]] = {}
    for ticket_id, data in session.execute(stmt):
        comment, category = str(data.get("comment") or ""), str(data.get("to") or "")
        if comment and category:
            latest[ticket_id] = (comment, category)
    yield from latest.values()


def urgency_rows(session: Session) -> Iterator[tuple[str, str]]:
    """``(comment, "0")`` for every comment whose urgent flags a handler dismissed, once each."""
    stmt = select(TicketEvent.data).where(TicketEvent.kind == URGENCY_DISMISSED).order_by(TicketEvent.id)
    seen: set[str] = set()
    for data in session.scalars(stmt):
        comment = str((data or {}).get("comment") or "")
        if comment and comment not in seen:
            seen.add(comment)
            yield comment, "0"
