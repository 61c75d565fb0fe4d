"""``minyi nlp rescore``: one commit per batch, so an interrupted run keeps its work and resumes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import surveys.analysis
from nlp import Analyzer, CommentAnalysis
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.models import Analysis, Channel, Response
from surveys.nlp_cli import nlp_cli
from surveys.settings import Settings
from tests.committed import committed_survey
from tests.conftest import NOW

COMMENTS = ["出警很快", "民警态度很差", "一般", "处理得很好", "等了一个小时"]


class InterruptedAnalyzer(Analyzer):
    """The rules-only analyzer, stopped by Ctrl-C once it has analysed ``batches`` batches."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.batches = batches

    def analyze_many(self, texts: Sequence[str]) -> list[CommentAnalysis]:
        if self.batches == 0:
            raise KeyboardInterrupt
        self.batches -= 1
        return super().analyze_many(texts)


def _versions(factory: sessionmaker[Session], response_ids: list[int]) -> list[list[str]]:
    """Each response's analyses' model versions, oldest first."""
    with factory() as session:
        return [
            list(
                session.scalars(select(Analysis.model_version).where(Analysis.response_id == rid).order_by(Analysis.id))
            )
            for rid in response_ids
        ]


def test_an_interrupted_rescore_keeps_its_committed_batches_and_resumes(
    committed_factory: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    response_ids = []
    for comment in COMMENTS:
        survey = committed_survey(committed_factory)
        with committed_factory.begin() as session:
            survey = session.merge(survey)
            response = submit_answer(session, survey, AnswerInput(overall=3, comment=comment), Channel.WEB, NOW)
            result = dataclasses.replace(Analyzer().analyze(comment), model_version="older")
            store_analysis(session, response, result, NOW)
            response_ids.append(response.id)
    with committed_factory() as session:  # nothing else in the database is stale
        stale = select(func.count()).select_from(Analysis).where(Analysis.is_current.is_(True))
        assert session.scalar(stale.where(Analysis.model_version != "older")) == 0
        assert session.scalar(select(func.count()).select_from(Response)) == len(COMMENTS)
    new_version = Analyzer().model_version
    env = {"MINYI_DATABASE_URL": settings.database_url}

    monkeypatch.setattr(surveys.analysis, "load_analyzer", lambda *_: InterruptedAnalyzer(batches=1))
    interrupted = CliRunner().invoke(nlp_cli, ["rescore", "--batch-size", "2"], env=env)
    assert interrupted.exit_code == 1  # click's "Aborted!"
    assert _versions(committed_factory, response_ids) == [
        ["older", new_version],
        ["older", new_version],
        *[["older"]] * 3,
    ]

    monkeypatch.setattr(surveys.analysis, "load_analyzer", lambda *_: InterruptedAnalyzer(batches=99))
    resumed = CliRunner().invoke(nlp_cli, ["rescore", "--batch-size", "2"], env=env)
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.strip() == f"rescored=3 model={new_version}"
    assert "rescore: 100%" in resumed.stderr  # the progress bar
    assert "3/3" in resumed.stderr
    assert _versions(committed_factory, response_ids) == [["older", new_version]] * len(COMMENTS)
