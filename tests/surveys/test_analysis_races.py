"""The analysis job on real connections: two schedulers, and a comment arriving mid-run.

Only PostgreSQL runs these at the same time (SQLite takes one writer at a time).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp import Analyzer, CommentAnalysis, get_default_analyzer
from surveys.analysis import analyze_pending_responses
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Analysis, Channel, ReplyOutcome, Response, Survey, Ticket, TicketPriority
from surveys.replies import handle_inbound_sms
from surveys.settings import Settings
from surveys.sms.base import InboundSms
from surveys.states import SurveyStatus
from tests.committed import at_once, committed_survey
from tests.conftest import NOW


@pytest.fixture
def factory(racing_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    return racing_factory


def _answered(factory: sessionmaker[Session], overall: int, comment: str = "") -> tuple[int, str]:
    """A committed answer (not yet analysed) and its citizen's phone."""
    survey = committed_survey(factory, SurveyStatus.DELIVERED)
    with factory.begin() as session:
        answer = AnswerInput(overall=overall, comment=comment)
        response = submit_answer(session, session.get_one(Survey, survey.id), answer, Channel.SMS, NOW)
        return response.id, survey.contact.phone_e164


class PausingAnalyzer:
    """The shipped analyzer, pausing once a batch has been claimed (rows locked)."""

    def __init__(self, claimed: threading.Barrier | None = None, pause: float = 0.0) -> None:
        self._analyzer: Analyzer = get_default_analyzer()
        self.model_version = self._analyzer.model_version
        self._claimed, self._pause = claimed, pause

    def analyze_many(self, texts: Sequence[str]) -> list[CommentAnalysis]:
        if self._claimed is not None:
            self._claimed.wait(timeout=10)
        time.sleep(self._pause)  # time for a concurrent writer to commit, unless it is kept out
        return self._analyzer.analyze_many(texts)


def _run_job(factory: sessionmaker[Session], analyzer: PausingAnalyzer) -> int:
    with factory.begin() as session:
        return analyze_pending_responses(session, analyzer, NOW)  # type: ignore[arg-type]


def test_two_schedulers_analyse_an_answer_once(factory: sessionmaker[Session]):
    response_id, _ = _answered(factory, 1, "民警态度恶劣")
    both_claimed = threading.Barrier(2)
    counts = at_once(*(lambda: _run_job(factory, PausingAnalyzer(both_claimed)) for _ in range(2)))
    assert sorted(counts) == [0, 1]
    with factory() as session:
        current = select(func.count(Analysis.id)).where(Analysis.response_id == response_id, Analysis.is_current)
        assert session.scalar(current) == 1
        assert session.scalar(select(func.count(Ticket.id)).where(Ticket.response_id == response_id)) == 1


def test_a_comment_sent_during_the_analysis_is_analysed_next(factory: sessionmaker[Session], settings: Settings):
    response_id, phone = _answered(factory, 4)  # rated by SMS, no comment yet, no ticket
    claimed = threading.Barrier(2)

    def follow_up() -> None:  # the citizen's next SMS, while the job holds the answer
        claimed.wait(timeout=10)
        with factory.begin() as session:
            inbound = InboundSms("twilio", f"SM{secrets.token_hex(16)}", phone, "民警威胁我说要打死我，救命")
            assert handle_inbound_sms(session, inbound, NOW, settings) is ReplyOutcome.COMMENT_ADDED

    at_once(lambda: _run_job(factory, PausingAnalyzer(claimed, pause=0.5)), follow_up)
    with factory() as session:
        assert session.get_one(Response, response_id).is_analyzed is False  # marked for the next run
    assert _run_job(factory, PausingAnalyzer()) == 1
    with factory() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.response_id == response_id)).one()
        assert ticket.priority is TicketPriority.URGENT
