"""Fixtures for the staff pages: a two-branch unit tree and a ticket in one branch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Case, Channel, Survey, Ticket, Unit
from surveys.triage import open_ticket_if_needed


@dataclass
class Tree:
    """City → two branches → one station each."""

    city: Unit
    east: Unit
    east_station: Unit
    west: Unit
    west_station: Unit


@pytest.fixture
def tree(make_unit: Callable[..., Unit]) -> Tree:
    city = make_unit(name="绍兴市公安局")
    east = make_unit(parent=city, name="越城分局")
    west = make_unit(parent=city, name="柯桥分局")
    return Tree(city, east, make_unit(parent=east, name="府山派出所"), west, make_unit(parent=west, name="柯岩派出所"))


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
