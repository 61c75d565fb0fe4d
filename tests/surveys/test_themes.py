"""Complaint themes: which answers count as complaints, analysed or not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from nlp import get_default_analyzer
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Case, Channel, Response, Role, Survey, Unit, User
from surveys.themes import complaint_themes
from surveys.triage import open_ticket_if_needed, recategorize_ticket

COMPLAINT = "民警态度恶劣，出警太慢了"


def _answer(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], unit: Unit, **answer: object
) -> Response:
    survey = make_survey(case=make_case(unit=unit))
    return submit_answer(session, survey, AnswerInput(**answer), Channel.WEB, survey.due_at + dt.timedelta(minutes=1))  # type: ignore[arg-type]


def test_a_low_rating_not_yet_analysed_is_a_complaint_without_category(
    session: Session,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    unit = make_unit()
    for _ in range(3):
        _answer(session, make_survey, make_case, unit, overall=1, comment=COMPLAINT)
    _answer(session, make_survey, make_case, unit, overall=5, comment="民警很耐心，谢谢")  # not a complaint
    analysed = _answer(session, make_survey, make_case, unit, overall=2, comment=COMPLAINT)
    result = get_default_analyzer().analyze(COMPLAINT)
    store_analysis(session, analysed, result, now)
    themes = complaint_themes(session, unit, now - dt.timedelta(days=7), now)
    assert themes.comments == 4
    assert [(group.example, group.count) for group in themes.repeated] == [(COMPLAINT, 4)]
    assert themes.keywords
    # only the analysed answer has categories so far
    assert themes.categories == [(category, 1) for category in result.categories]


def test_a_handlers_correction_replaces_the_analysed_categories(
    session: Session,
    make_unit: Callable[..., Unit],
    make_case: Callable[..., Case],
    make_survey: Callable[..., Survey],
    make_user: Callable[..., User],
    now: dt.datetime,
):
    unit = make_unit()
    result = get_default_analyzer().analyze(COMPLAINT)
    assert result.categories == ("服务态度", "出警速度")
    tickets = []
    for _ in range(2):
        answer = _answer(session, make_survey, make_case, unit, overall=1, comment=COMPLAINT)
        ticket = open_ticket_if_needed(session, answer, store_analysis(session, answer, result, now), now)
        assert ticket is not None
        tickets.append(ticket)
    recategorize_ticket(session, tickets[0], "处理结果", make_user(Role.HANDLER, unit), now, ["处理结果"])
    themes = complaint_themes(session, unit, now - dt.timedelta(days=7), now + dt.timedelta(minutes=1))
    assert sorted(themes.categories) == [("出警速度", 1), ("处理结果", 1), ("服务态度", 1)]
