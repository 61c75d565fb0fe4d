"""Fixtures for the staff pages: a ticket analysed from an answer (the unit tree is ``tests.factories.tree``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Case, Channel, Survey, Ticket, Unit
from surveys.triage import open_ticket_if_needed
from webapp.extensions import limiter


@pytest.fixture
def make_ticket(
    session: Session, make_case: Callable[..., Case], make_survey: Callable[..., Survey], now: dt.datetime
) -> Callable[..., Ticket]:
    """``make_ticket(unit, overall=1, comment=…, reasons=…)``: an answered 110 survey analysed into a ticket.

    Other keywords (``dimension_ratings``, ``reasons``) go into the answer.
    """

    def factory(unit: Unit, overall: int = 1, comment: str = "民警态度恶劣，出警太慢了", **answer: Any) -> Ticket:
        survey = make_survey(case=make_case(unit=unit))
        answered_at = now - dt.timedelta(hours=1)
        response = submit_answer(
            session, survey, AnswerInput(overall=overall, comment=comment, **answer), Channel.WEB, answered_at
        )
        analysis = store_analysis(session, response, get_default_analyzer().analyze(comment), answered_at)
        ticket = open_ticket_if_needed(session, response, analysis, answered_at)
        assert ticket is not None
        return ticket

    return factory


@pytest.fixture
def limiter_store_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask-Limiter's store marked alive for this test, and as it was again afterwards.

    The one module-level limiter keeps, across apps, that its store was found down (its
    private ``_storage_dead``) and then counts in its in-memory fallback: a test that takes
    the store down would leave the next one counting there instead of in its own store.
    """
    monkeypatch.setattr(limiter, "_storage_dead", False)
