"""Stored analyses: every model version's row kept, one current row per response."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Analysis, Channel, Response, Survey

COMMENT = "出警太慢了"


@pytest.fixture
def response(session: Session, make_survey: Callable[..., Survey]) -> Response:
    survey = make_survey()
    return submit_answer(session, survey, AnswerInput(overall=2, comment=COMMENT), Channel.WEB, survey.sent_at)


def _rows(session: Session, response: Response) -> list[tuple[str, bool]]:
    stmt = select(Analysis.model_version, Analysis.is_current).where(Analysis.response_id == response.id)
    return list(session.execute(stmt.order_by(Analysis.id)).tuples())


def test_a_new_analysis_becomes_current_and_the_old_one_stays(session: Session, response: Response, now: dt.datetime):
    result = get_default_analyzer().analyze(COMMENT)
    store_analysis(session, response, dataclasses.replace(result, model_version="older"), now)
    store_analysis(session, response, result, now + dt.timedelta(days=1))
    assert _rows(session, response) == [("older", False), (result.model_version, True)]


def test_the_database_refuses_a_second_current_analysis(session: Session, response: Response, now: dt.datetime):
    analysis = store_analysis(session, response, get_default_analyzer().analyze(COMMENT), now)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            Analysis(
                response=response,
                sentiment_score=analysis.sentiment_score,
                sentiment_label=analysis.sentiment_label,
                model_version="a writer that missed the current row",
                is_current=True,
            )
        )
    assert _rows(session, response) == [(analysis.model_version, True)]
