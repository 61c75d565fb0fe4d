"""Analysis: score each new comment with the NLP analyzer and store the result."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import asdict

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, joinedload

from nlp import Analyzer, CommentAnalysis, Taxonomy, default_taxonomy, get_default_analyzer
from surveys.models import Analysis, Response, Survey
from surveys.settings import Settings
from surveys.triage import open_ticket_if_needed

log = logging.getLogger(__name__)


def load_analyzer(settings: Settings, taxonomy: Taxonomy | None = None) -> Analyzer:
    """The deployment's model (``MINYI_NLP_MODEL_DIR``, written by ``minyi nlp train``) or the shipped one.

    ``taxonomy`` is the one in force (:func:`surveys.taxonomies.current_taxonomy`);
    None means the shipped default.
    """
    if settings.nlp_model_dir or (taxonomy is not None and taxonomy != default_taxonomy()):
        return Analyzer.load(settings.nlp_model_dir, taxonomy=taxonomy)
    return get_default_analyzer()


def store_analysis(session: Session, response: Response, result: CommentAnalysis, now: dt.datetime) -> Analysis:
    """Add ``result`` as the current analysis of ``response``; older rows stay as history."""
    session.execute(
        update(Analysis)
        .where(Analysis.response_id == response.id, Analysis.is_current.is_(True))
        .values(is_current=False)
    )
    analysis = Analysis(
        response=response,
        sentiment_score=result.sentiment_score,
        sentiment_label=result.sentiment_label,
        categories=list(result.categories),
        urgency_flags=[asdict(flag) for flag in result.urgency_flags],
        is_urgent=result.is_urgent,
        keywords=list(result.keywords),
        model_version=result.model_version,
        is_current=True,
        created_at=now,
    )
    session.add(analysis)
    response.is_analyzed = True
    session.flush()
    return analysis


def analyze_pending_responses(session: Session, analyzer: Analyzer, now: dt.datetime, limit: int = 500) -> int:
    """Analyse responses not yet analysed and open the tickets they call for; returns the count.

    The responses are claimed (row locks, skipping those another run holds) until the
    caller commits: two schedulers never analyse one answer twice, and an SMS comment
    added to an answer meanwhile waits for this run, then marks it for the next one.
    """
    stmt = (
        select(Response)
        .where(Response.is_analyzed.is_(False))
        .order_by(Response.id)
        .limit(limit)
        .options(joinedload(Response.survey).joinedload(Survey.case))
        .with_for_update(of=Response, skip_locked=True)
    )
    responses = list(session.scalars(stmt))
    results = analyzer.analyze_many([r.comment for r in responses])
    for response, result in zip(responses, results, strict=True):
        analysis = store_analysis(session, response, result, now)
        open_ticket_if_needed(session, response, analysis, now)
    if responses:
        log.info("analysed %d responses with %s", len(responses), analyzer.model_version)
    return len(responses)


def _stale(analyzer: Analyzer) -> Select[tuple[Response]]:
    """Responses whose current analysis came from another model version than ``analyzer``'s."""
    return (
        select(Response)
        .join(Analysis, (Analysis.response_id == Response.id) & Analysis.is_current.is_(True))
        .where(Analysis.model_version != analyzer.model_version)
    )


def count_stale_responses(session: Session, analyzer: Analyzer) -> int:
    """How many responses :func:`rescore_batches` would re-analyse now (for a progress bar)."""
    return session.scalar(select(func.count()).select_from(_stale(analyzer).subquery())) or 0


def rescore_batches(session: Session, analyzer: Analyzer, now: dt.datetime, batch_size: int = 500) -> Iterator[int]:
    """Re-analyse every response whose current analysis is from another model version.

    Yields the size of each batch once it is flushed, so that the caller commits it
    before the next one is read: a history of years is many minutes of analysis, and
    one transaction for all of it lost everything to an interrupt and, on SQLite,
    locked out every writer (citizens' answers failed with "database is locked") for
    the whole run. A response already re-analysed by this model version is no longer
    selected, so a run stopped midway resumes where it stopped. Each batch locks its
    responses like the analysis job does, and a new analysis that calls for a ticket
    (a newer model finds a threat) opens or raises it.
    """
    last_id = 0
    while True:
        stmt = (
            _stale(analyzer)
            .where(Response.id > last_id)
            .order_by(Response.id)
            .limit(batch_size)
            .with_for_update(of=Response)
        )
        responses = list(session.scalars(stmt))
        if not responses:
            return
        for response, result in zip(responses, analyzer.analyze_many([r.comment for r in responses]), strict=True):
            open_ticket_if_needed(session, response, store_analysis(session, response, result, now), now)
        session.flush()
        last_id = responses[-1].id
        yield len(responses)
