"""Expire surveys whose window has passed: the answer window of a sent one, the send window of a planned one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from surveys.models import Survey
from surveys.skip_reasons import SkipReason
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus
from surveys.transitions import bulk_transition


def expire_surveys(session: Session, now: dt.datetime) -> int:
    """Move surveys past ``expires_at`` to ``expired``; returns how many.

    A planned survey that could not be sent in time (retries, a long outage) is not sent
    late: a text about a matter from weeks ago confuses more than it helps. It records
    why it was never sent.
    """
    past = [Survey.expires_at <= now]
    unanswered = bulk_transition(session, SurveyStatus.EXPIRED, now, past, from_states=ANSWERABLE_SURVEY_STATES)
    unsent = bulk_transition(
        session,
        SurveyStatus.EXPIRED,
        now,
        past,
        from_states=[SurveyStatus.PLANNED],
        values={"skip_reason": SkipReason.NOT_SENT_IN_TIME},
    )
    return len(unanswered) + len(unsent)
