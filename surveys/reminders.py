"""One reminder per unanswered survey, after the unit's reminder delay, outside quiet hours.

``remind_at`` was set when the survey was sent (sent time + delay, moved out of quiet
hours, dropped when it would fall after expiry). The tick queues the reminder in the
outbox and moves the survey to ``reminded`` in one transaction; the outbox sends it
after the commit and cancels it if the citizen answered or opted out in between.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.messages import render, survey_params
from surveys.models import Case, SmsKind, Survey
from surveys.outbox import queue_message
from surveys.policy import load_policy_book
from surveys.settings import Settings
from surveys.states import SurveyStatus
from surveys.suppressions import blocked_phones
from surveys.transitions import sources_for, transition

log = logging.getLogger(__name__)


@dataclass
class ReminderReport:
    """What one reminder run did."""

    queued: int = 0
    postponed: int = 0
    dropped: int = 0


def queue_due_reminders(session: Session, now: dt.datetime, settings: Settings, limit: int = 500) -> ReminderReport:
    """Queue the reminders that are due; quiet hours postpone, a blocked number drops them."""
    surveys = list(
        session.scalars(
            select(Survey)
            .where(
                Survey.status.in_(sources_for(SurveyStatus.REMINDED)),
                Survey.remind_at <= now,
                Survey.reminded_at.is_(None),
                Survey.expires_at > now,
            )
            .order_by(Survey.remind_at, Survey.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Survey)
            .options(selectinload(Survey.contact), selectinload(Survey.case).selectinload(Case.unit))
        )
    )
    report = ReminderReport()
    if not surveys:
        return report
    book = load_policy_book(session, settings)
    blocked = blocked_phones(session, (s.contact.phone_e164 for s in surveys))
    for survey in surveys:
        policy = book.for_unit(survey.case.unit)
        if survey.contact.phone_e164 in blocked:
            survey.remind_at = None
            report.dropped += 1
        elif policy.in_quiet_hours(now):
            survey.remind_at = policy.next_send_window(now)
            report.postponed += 1
        else:
            transition(survey, SurveyStatus.REMINDED, now)
            params = survey_params(survey.case, survey.token, settings.public_base_url, settings.timezone)
            queue_message(
                session,
                kind=SmsKind.REMINDER,
                phone_e164=survey.contact.phone_e164,
                body=render(policy.reminder_template, settings.sms_signature, params),
                params=params.template_params(),
                provider=settings.sms_provider,
                survey_id=survey.id,
                now=now,
            )
            report.queued += 1
    session.flush()
    log.info("reminders: %s", report)
    return report
