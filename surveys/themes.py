"""What citizens complain about in a unit's subtree: keywords, categories, repeated complaints.

The texts come from SQL (negative answers with a comment in the period, newest first,
bounded); the text analysis is the nlp package's. Bounded so the dashboard stays fast
for a whole city: the newest ``MAX_COMMENTS`` complaints represent the period.

A low rating makes an answer a complaint whether or not its comment has been analysed
yet (the analysis runs after the answer, and may lag or fail): such an answer counts in
the keywords and the repeated complaints, and in no category until it is analysed.

A handler who corrects a ticket's category has read the comment; the analysis only
guessed. So a comment whose ticket was re-categorised counts in the handler's category
alone, the others in the analysis's (one or two).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import case, exists, or_, select
from sqlalchemy.orm import Session

from nlp.grouping import group_similar
from nlp.keywords import top_keywords
from surveys.models import Analysis, Response, Ticket, TicketEvent, Unit
from surveys.triage import NEGATIVE_RATING_MAX, RECATEGORIZED
from surveys.units import subtree_unit_ids

MAX_COMMENTS = 500


@dataclass(frozen=True)
class RepeatedComplaint:
    """Near-identical complaints raised by several citizens."""

    example: str
    count: int


@dataclass(frozen=True)
class Themes:
    """The complaint themes of a subtree over a period."""

    comments: int
    keywords: list[tuple[str, float]]
    categories: list[tuple[str, int]]
    repeated: list[RepeatedComplaint]


def complaint_themes(session: Session, root: Unit, since: dt.datetime, until: dt.datetime) -> Themes:
    """Keywords, category counts and repeated complaints of negative answers under ``root``."""
    corrected = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == RECATEGORIZED)
    stmt = (
        select(Response.comment, Analysis.categories, case((corrected, Ticket.category), else_=None))
        .outerjoin(Analysis, (Analysis.response_id == Response.id) & Analysis.is_current.is_(True))
        .outerjoin(Ticket, Ticket.response_id == Response.id)
        .where(
            Response.unit_id.in_(subtree_unit_ids(root)),
            Response.submitted_at >= since,
            Response.submitted_at < until,
            Response.comment != "",
            or_(Response.overall <= NEGATIVE_RATING_MAX, Analysis.sentiment_label == "negative"),
        )
        .order_by(Response.submitted_at.desc())
        .limit(MAX_COMMENTS)
    )
    rows = session.execute(stmt).all()
    texts = [comment for comment, _, _ in rows]
    categories = Counter(
        category for _, analysed, corrected in rows for category in ([corrected] if corrected else analysed or ())
    )
    groups = [group for group in group_similar(texts) if len(group) > 1] if texts else []
    return Themes(
        comments=len(texts),
        keywords=top_keywords(texts, top_k=12) if texts else [],
        categories=categories.most_common(),
        repeated=[RepeatedComplaint(texts[group[0]], len(group)) for group in groups[:8]],
    )
