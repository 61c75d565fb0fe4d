"""Planning: turn each newly closed case into one survey per citizen, or a recorded skip."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Case, CaseContact, Survey
from surveys.optouts import is_opted_out
from surveys.policy import next_send_window
from surveys.settings import Settings
from surveys.states import SurveyStatus

log = logging.getLogger(__name__)

#: 12 URL-safe characters = 72 bits of randomness: short enough for one SMS segment,
#: far too many to guess at a rate-limited endpoint.
TOKEN_BYTES = 9


def new_token() -> str:
    """A fresh unguessable survey token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class PlanningReport:
    """How many surveys planning created, by outcome."""

    planned: int = 0
    skipped: int = 0


def _skip_reason(
    session: Session, case: Case, participant: CaseContact, now: dt.datetime, settings: Settings
) -> str | None:
    if case.is_sensitive:
        return "sensitive_case"
    if is_opted_out(session, participant.contact.phone_e164):
        return "opted_out"
    if case.closed_at < now - dt.timedelta(days=settings.survey_expiry_days):
        return "closed_too_long_ago"
    return None


def plan_case(session: Session, case: Case, now: dt.datetime, settings: Settings) -> list[Survey]:
    """Create the surveys of one case (planned, or skipped with a reason) and mark it planned."""
    surveys = []
    delay = dt.timedelta(minutes=settings.survey_delay_minutes)
    for participant in case.participants:
        reason = _skip_reason(session, case, participant, now, settings)
        due_at = next_send_window(
            max(case.closed_at + delay, now), settings.quiet_hours_start, settings.quiet_hours_end, settings.timezone
        )
        survey = Survey(
            case=case,
            contact=participant.contact,
            citizen_role=participant.role,
            token=new_token(),
            status=SurveyStatus.SKIPPED if reason else SurveyStatus.PLANNED,
            skip_reason=reason,
            due_at=due_at,
            planned_at=now,
            skipped_at=now if reason else None,
        )
        session.add(survey)
        surveys.append(survey)
        if reason:
            log.info("case %s contact %s skipped: %s", case.id, participant.contact_id, reason)
    case.is_planned = True
    session.flush()
    return surveys


def plan_due_cases(session: Session, now: dt.datetime, settings: Settings, limit: int = 500) -> PlanningReport:
    """Plan surveys for closed cases not yet planned, oldest first."""
    stmt = (
        select(Case)
        .where(Case.is_planned.is_(False), Case.closed_at <= now)
        .order_by(Case.closed_at)
        .limit(limit)
        .options(selectinload(Case.participants).selectinload(CaseContact.contact), selectinload(Case.unit))
    )
    total = PlanningReport()
    for case in session.scalars(stmt):
        for survey in plan_case(session, case, now, settings):
            if survey.status is SurveyStatus.PLANNED:
                total.planned += 1
            else:
                total.skipped += 1
    return total
