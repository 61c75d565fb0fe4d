"""Expire surveys whose answer window has passed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from surveys.models import Survey
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus


def expire_surveys(session: Session, now: dt.datetime) -> int:
    """Move answerable surveys past ``expires_at`` to ``expired``; returns how many."""
    result = session.execute(
        update(Survey)
        .where(Survey.status.in_(ANSWERABLE_SURVEY_STATES), Survey.expires_at <= now)
        .values(status=SurveyStatus.EXPIRED, expired_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
