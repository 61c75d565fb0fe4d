"""The opt-out list: a citizen who says TD (or taps 退订) is never contacted again."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from surveys.models import Contact, OptOut, Survey
from surveys.models.contacts import mask_phone
from surveys.states import SurveyStatus

log = logging.getLogger(__name__)

#: States a survey leaves when its citizen opts out (nothing answered or final yet).
_OPEN_STATES = (
    SurveyStatus.PLANNED,
    SurveyStatus.SENT,
    SurveyStatus.DELIVERED,
    SurveyStatus.OPENED,
    SurveyStatus.REMINDED,
)


def is_opted_out(session: Session, phone_e164: str) -> bool:
    """Whether this phone is on the opt-out list."""
    return bool(session.scalar(select(exists().where(OptOut.phone_e164 == phone_e164))))


def opt_out(session: Session, phone_e164: str, source: str, now: dt.datetime) -> bool:
    """Add the phone to the list and close its open surveys; returns False if already listed.

    Idempotent, so a replayed webhook or a second tap changes nothing (and the caller
    knows not to confirm twice).
    """
    if is_opted_out(session, phone_e164):
        return False
    session.add(OptOut(phone_e164=phone_e164, source=source, created_at=now))
    contact_ids = select(Contact.id).where(Contact.phone_e164 == phone_e164).scalar_subquery()
    session.execute(
        update(Survey)
        .where(Survey.contact_id == contact_ids, Survey.status.in_(_OPEN_STATES))
        .values(status=SurveyStatus.OPTED_OUT, opted_out_at=now)
    )
    session.flush()
    log.info("%s opted out via %s", mask_phone(phone_e164), source)
    return True
