"""The opt-out list: a citizen who says TD (or taps 退订) is never contacted again."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import Contact, OptOut, Survey
from surveys.models.contacts import mask_phone
from surveys.states import SurveyStatus
from surveys.transitions import bulk_transition

log = logging.getLogger(__name__)


def is_opted_out(session: Session, phone_e164: str) -> bool:
    """Whether this phone is on the opt-out list."""
    return bool(session.scalar(select(exists().where(OptOut.phone_e164 == phone_e164))))


def opt_out(session: Session, phone_e164: str, source: str, now: dt.datetime) -> bool:
    """Add the phone to the list and close its open surveys; returns False if already listed.

    Idempotent, so a replayed webhook or a second tap changes nothing (and the caller
    knows not to confirm twice). Every survey that can still move to ``opted_out``
    (planned, sent, delivered, opened, reminded) does; one being sent right now finishes
    its send and is closed when the send is recorded (``surveys.dispatch``), and nothing
    after it goes out.
    """
    if is_opted_out(session, phone_e164):
        return False
    try:
        # Two taps (or a tap and an SMS) at the same moment both pass the check above;
        # the phone number's unique key lets one in and the other finds it listed.
        with session.begin_nested():
            session.add(OptOut(phone_e164=phone_e164, source=source, created_at=now))
    except IntegrityError:
        return False
    contact_ids = select(Contact.id).where(Contact.phone_e164 == phone_e164)
    closed = bulk_transition(session, SurveyStatus.OPTED_OUT, now, [Survey.contact_id.in_(contact_ids)])
    session.flush()
    log.info("%s opted out via %s; %d open surveys closed", mask_phone(phone_e164), source, len(closed))
    return True
