"""The scheduler process: APScheduler with fixed tick jobs and an in-memory job store.

The schedule itself is data in our tables (``surveys.due_at``, ``surveys.remind_at`` …)
swept by the ticks, so a missed tick loses nothing and any number of scheduler processes
can run side by side: they share work through row locks, never through a shared job
store (which APScheduler's FAQ says cannot be shared between processes).
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from surveys.db import make_engine, make_session_factory, utcnow
from surveys.dispatch_settings import load_dispatch_settings
from surveys.jobs import TICK_JOBS, JobContext
from surveys.settings import Settings, load_settings
from surveys.sms.factory import make_provider

log = logging.getLogger(__name__)


def build_context(settings: Settings) -> JobContext:
    """Engine, session factory and provider for this process."""
    engine = make_engine(settings.database_url)
    dispatch_settings = load_dispatch_settings()
    return JobContext(
        session_factory=make_session_factory(engine),
        provider=make_provider(settings, dispatch_settings),
        settings=settings,
        dispatch_settings=dispatch_settings,
    )


def register_jobs(scheduler: BaseScheduler, ctx: JobContext) -> None:
    """Register every tick job with an explicit id; a missed tick is coalesced, not replayed."""
    for job_id, job, interval_seconds in TICK_JOBS:
        scheduler.add_job(
            job,
            "interval",
            seconds=interval_seconds,
            args=[ctx, None],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=interval_seconds,
            next_run_time=utcnow(),  # first tick at start, so due work goes out at once
        )


def start_background(settings: Settings) -> BackgroundScheduler:
    """Start the ticks in a background thread (the development ``minyi run`` only)."""
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    register_jobs(scheduler, build_context(settings))
    scheduler.start()
    return scheduler


def main() -> None:
    """Run the scheduler in the foreground until interrupted (``minyi scheduler``)."""
    settings = load_settings()
    scheduler = BlockingScheduler(timezone=settings.timezone)
    register_jobs(scheduler, build_context(settings))
    log.info("scheduler started with %d jobs", len(TICK_JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
