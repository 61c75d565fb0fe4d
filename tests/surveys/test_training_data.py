"""The deployment's own labels: ratings label sentiment, re-categorisations label categories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from surveys.answers import AnswerInput, submit_answer
from surveys.models import Channel, Role, Survey, Ticket, TicketEvent, User
from surveys.training_data import category_rows, sentiment_rows


def test_ratings_label_comments(session: Session, make_survey: Callable[..., Survey], now: dt.datetime):
    for overall, comment in [(1, "太慢了"), (3, "一般"), (5, "很好"), (4, "")]:
        submit_answer(session, make_survey(), AnswerInput(overall=overall, comment=comment), Channel.WEB, now)
    assert sorted(sentiment_rows(session)) == [("一般", "neu"), ("太慢了", "neg"), ("很好", "pos")]


def test_latest_recategorisation_labels_the_comment(
    session: Session, make_user: Callable[..., User], make_survey: Callable[..., Survey], now: dt.datetime
):
    from surveys.triage import open_ticket_if_needed

    survey = make_survey()
    response = submit_answer(session, survey, AnswerInput(overall=1, comment="开了三次证明都不给办"), Channel.WEB, now)
    ticket = open_ticket_if_needed(session, response, None, now)
    assert isinstance(ticket, Ticket)
    handler = make_user(Role.HANDLER)
    for category in ("服务态度", "办案效率"):
        session.add(
            TicketEvent(
                ticket=ticket,
                actor=handler,
                kind="recategorized",
                data={"to": category, "comment": response.comment},
                created_at=now,
            )
        )
    session.flush()
    assert list(category_rows(session)) == [("开了三次证明都不给办", "办案效率")]
