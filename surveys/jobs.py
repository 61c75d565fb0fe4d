"""Periodic jobs: each opens its own transaction, calls one service and commits.

Jobs take primitives (and an explicit ``now`` in tests), never ORM objects, so they are
safe to run from APScheduler threads, the CLI or a test. The sending jobs are the
documented exception to "one transaction per job": they call services that own their
short transactions around the provider call (see :mod:`surveys.dispatch`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from nlp import Analyzer, Taxonomy
from surveys.analysis import analyze_pending_responses, load_analyzer
from surveys.db import utcnow
from surveys.dispatch import DispatchReport, dispatch_due_surveys, mark_lost_claims
from surveys.dispatch_settings import DispatchSettings, load_dispatch_settings
from surveys.expiry import expire_surveys
from surveys.outbox import OutboxReport, mark_lost_sends, send_queued_messages
from surveys.planning import PlanningReport, plan_due_cases
from surveys.reminders import ReminderReport, queue_due_reminders
from surveys.settings import Settings
from surveys.sms.base import SmsProvider
from surveys.taxonomies import current_taxonomy

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What every job needs, built once per process at the edge."""

    session_factory: sessionmaker[Session]
    provider: SmsProvider
    settings: Settings
    dispatch_settings: DispatchSettings = field(default_factory=load_dispatch_settings)
    _analyzer: tuple[Taxonomy, Analyzer] | None = field(default=None, init=False, repr=False)

    def analyzer_for(self, taxonomy: Taxonomy) -> Analyzer:
        """The NLP analyzer with ``taxonomy``, loaded on first use (not at scheduler start).

        One is kept: when an administrator saves a new taxonomy, the next analysis run
        loads an analyzer with it and the old one is dropped.
        """
        if self._analyzer is None or self._analyzer[0] != taxonomy:
            self._analyzer = (taxonomy, load_analyzer(self.settings, taxonomy))
        return self._analyzer[1]

    @property
    def send_rate(self) -> float | None:
        """The configured messages per second of this process's provider."""
        return self.dispatch_settings.send_rate(self.provider.name)


def plan_due_cases_job(ctx: JobContext, now: dt.datetime | None = None) -> PlanningReport:
    """Plan surveys for newly closed cases."""
    with ctx.session_factory.begin() as session:
        return plan_due_cases(session, now or utcnow(), ctx.settings)


def dispatch_due_surveys_job(ctx: JobContext, now: dt.datetime | None = None) -> DispatchReport:
    """Send one batch of due surveys (dispatch owns its transactions)."""
    return dispatch_due_surveys(
        ctx.session_factory, ctx.provider, ctx.settings, now or utcnow(), rate_per_second=ctx.send_rate
    )


def queue_reminders_job(ctx: JobContext, now: dt.datetime | None = None) -> ReminderReport:
    """Queue the reminders that are due."""
    with ctx.session_factory.begin() as session:
        return queue_due_reminders(session, now or utcnow(), ctx.settings)


def send_queued_messages_job(ctx: JobContext, now: dt.datetime | None = None) -> OutboxReport:
    """Send queued reminders and confirmations (the outbox owns its transactions)."""
    return send_queued_messages(
        ctx.session_factory, ctx.provider, ctx.settings, now or utcnow(), rate_per_second=ctx.send_rate
    )


def mark_lost_claims_job(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """Declare stale survey and outbox claims ``unknown``."""
    with ctx.session_factory.begin() as session:
        moment = now or utcnow()
        return mark_lost_claims(session, moment) + mark_lost_sends(session, moment)


def analyze_responses_job(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """Analyse new answers and open their tickets."""
    with ctx.session_factory.begin() as session:
        analyzer = ctx.analyzer_for(current_taxonomy(session))
        return analyze_pending_responses(session, analyzer, now or utcnow())


def expire_surveys_job(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """Close the answer window of old surveys, and the send window of stale planned ones."""
    with ctx.session_factory.begin() as session:
        return expire_surveys(session, now or utcnow())


#: (job id, function, interval in seconds); the scheduler registers these in this order.
TICK_JOBS: tuple[tuple[str, Callable[[JobContext, dt.datetime | None], object], int], ...] = (
    ("plan_due_cases", plan_due_cases_job, 30),
    ("dispatch_due_surveys", dispatch_due_surveys_job, 10),
    ("queue_reminders", queue_reminders_job, 60),
    ("send_queued_messages", send_queued_messages_job, 10),
    ("mark_lost_claims", mark_lost_claims_job, 60),
    ("analyze_responses", analyze_responses_job, 15),
    ("expire_surveys", expire_surveys_job, 300),
)


def run_all_jobs(ctx: JobContext, now: dt.datetime | None = None) -> dict[str, object]:
    """Run every tick job once, in order, with one ``now`` (tests and ``minyi tick``)."""
    moment = now or utcnow()
    return {job_id: job(ctx, moment) for job_id, job, _ in TICK_JOBS}


def drain_due_surveys(ctx: JobContext, now: dt.datetime | None = None) -> DispatchReport:
    """Dispatch batch after batch until a batch finds nothing due (catching up, benchmarks).

    Several processes may drain at once: each stops when the rows left are claimed by
    the others (``SKIP LOCKED`` hides them) or not yet due.
    """
    total = DispatchReport()
    while True:
        report = dispatch_due_surveys_job(ctx, now)
        total.add(report)
        if not (report.claimed or report.postponed or report.skipped or report.opted_out):
            return total
