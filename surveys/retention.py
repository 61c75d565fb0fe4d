"""Retention: forget citizens' phone numbers once they are no longer needed.

A contact is purged when none of its cases closed within the retention period and none of
its surveys can still be answered. Its number is replaced by a placeholder in ``contacts``
and ``sms_messages``; cases, answers and tickets stay for the statistics. The opt-out list
keeps its numbers: forgetting them would let a citizen who said TD be texted again.
Suppressions of unreachable numbers are deleted after the same period: by then a number
may well have been reassigned to someone else.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from surveys.models import Case, CaseContact, Contact, PhoneSuppression, SmsMessage, Survey
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus

log = logging.getLogger(__name__)

PURGED_PREFIX = "purged-"


def purge_contacts(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Anonymise contacts whose last case closed before the retention period; returns how many."""
    cutoff = now - dt.timedelta(days=retention_days)
    recent_case = (
        select(CaseContact.id)
        .join(Case, CaseContact.case_id == Case.id)
        .where(CaseContact.contact_id == Contact.id, Case.closed_at >= cutoff)
    )
    open_survey = select(Survey.id).where(
        Survey.contact_id == Contact.id,
        Survey.status.in_([*ANSWERABLE_SURVEY_STATES, SurveyStatus.PLANNED, SurveyStatus.SENDING]),
    )
    stmt = select(Contact).where(
        ~Contact.phone_e164.startswith(PURGED_PREFIX), ~exists(recent_case), ~exists(open_survey)
    )
    contacts = list(session.scalars(stmt))
    for contact in contacts:
        placeholder = f"{PURGED_PREFIX}{contact.id}"
        session.execute(
            update(SmsMessage).where(SmsMessage.phone_e164 == contact.phone_e164).values(phone_e164=placeholder)
        )
        contact.phone_e164 = placeholder
    session.flush()
    if contacts:
        log.info("purged %d contacts older than %d days", len(contacts), retention_days)
    return len(contacts)


def purge_suppressions(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Delete suppressions older than the retention period; returns how many."""
    cutoff = now - dt.timedelta(days=retention_days)
    result = session.execute(delete(PhoneSuppression).where(PhoneSuppression.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
