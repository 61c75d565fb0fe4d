"""Retention: forget citizens' phone numbers once they are no longer needed.

A contact is purged when none of its cases closed within the retention period, none of
its surveys can still be answered and none of its answers has an open ticket (the
handler still has to call the citizen back). Its number is replaced by a placeholder in
``contacts`` and ``sms_messages``; cases, answers and tickets stay for the statistics.

Numbers also reach ``sms_messages`` without a live contact behind them: an SMS from a
number Minyi never texted, a reply that arrived after its contact was purged. Every SMS
row older than the cutoff whose number belongs to no contact is therefore forgotten as
well. Provider error texts may quote the number they refused, so the error texts of
purged rows (``sms_messages.error_message``, ``surveys.last_error_message``) have every
run of digits long enough to be a phone number masked; the error codes stay.

The opt-out list keeps its numbers: forgetting them would let a citizen who said TD be
texted again. Suppressions of unreachable numbers are deleted after the same period: by
then a number may well have been reassigned to someone else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from sqlalchemy import ColumnElement, String, and_, cast, delete, exists, func, literal, select, update
from sqlalchemy.orm import Session

from surveys.errors import ValidationError
from surveys.models import (
    Case,
    CaseContact,
    Contact,
    PhoneSuppression,
    Response,
    SmsMessage,
    SmsSendStatus,
    Survey,
    Ticket,
)
from surveys.models.contacts import PURGED_PHONE_PREFIX
from surveys.states import ANSWERABLE_SURVEY_STATES, OPEN_TICKET_STATES, SurveyStatus

log = logging.getLogger(__name__)

PURGED_PREFIX = PURGED_PHONE_PREFIX
#: Placeholder prefix of an SMS row whose number had no contact (``purged-sms<row id>``).
PURGED_SMS_PREFIX = f"{PURGED_PREFIX}sms"
#: Bounds of the retention period: a shorter one would cut off surveys still in progress,
#: a longer one (a century) keeps everything and would overflow the date arithmetic.
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500
#: Seven or more digits, optionally separated by single spaces or hyphens, optionally
#: after a plus sign: any way a provider quotes a phone number. Error codes are shorter.
_PHONE_LIKE = re.compile(r"\+?\d(?:[ -]?\d){6,}")
MASKED_NUMBER = "[号码已清除]"


def check_retention_days(retention_days: int) -> None:
    """Refuse a retention period outside [MIN_RETENTION_DAYS, MAX_RETENTION_DAYS]."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ValidationError("days", f"保留期不能少于 {MIN_RETENTION_DAYS} 天：更短会删掉仍在进行中的回访的号码")
    if retention_days > MAX_RETENTION_DAYS:
        raise ValidationError("days", f"保留期不能超过 {MAX_RETENTION_DAYS} 天")


def mask_numbers(text: str) -> str:
    """``text`` with every phone-number-like run of digits replaced by a marker."""
    return _PHONE_LIKE.sub(MASKED_NUMBER, text)


def purge_contacts(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Forget the numbers past retention (see the module docstring); returns how many contacts.

    Contacts go first, so that their SMS rows carry the contact's placeholder; the sweep
    of numbers without a contact and the masking of error texts follow.
    """
    check_retention_days(retention_days)
    cutoff = now - dt.timedelta(days=retention_days)
    contacts = list(session.scalars(select(Contact).where(_purgeable_contact(cutoff))))
    for contact in contacts:
        placeholder = f"{PURGED_PREFIX}{contact.id}"
        _forget_sms_numbers(session, SmsMessage.phone_e164 == contact.phone_e164, placeholder)
        contact.phone_e164 = placeholder
    session.flush()
    orphans = _purge_sms_without_contact(session, cutoff)
    _mask_error_texts(session)
    if contacts or orphans:
        log.info(
            "purged %d contacts and %d SMS rows without a contact, older than %d days",
            len(contacts),
            orphans,
            retention_days,
        )
    return len(contacts)


def _purgeable_contact(cutoff: dt.datetime) -> ColumnElement[bool]:
    """A contact with no recent case, no survey still in progress and no open ticket."""
    recent_case = (
        select(CaseContact.id)
        .join(Case, CaseContact.case_id == Case.id)
        .where(CaseContact.contact_id == Contact.id, Case.closed_at >= cutoff)
    )
    open_survey = select(Survey.id).where(
        Survey.contact_id == Contact.id,
        Survey.status.in_([*ANSWERABLE_SURVEY_STATES, SurveyStatus.PLANNED, SurveyStatus.SENDING]),
    )
    open_ticket = (
        select(Ticket.id)
        .join(Response, Ticket.response_id == Response.id)
        .join(Survey, Response.survey_id == Survey.id)
        .where(Survey.contact_id == Contact.id, Ticket.status.in_(OPEN_TICKET_STATES))
    )
    return and_(
        ~Contact.phone_e164.startswith(PURGED_PREFIX),
        ~exists(recent_case),
        ~exists(open_survey),
        ~exists(open_ticket),
    )


def _forget_sms_numbers(session: Session, rows: ColumnElement[bool], placeholder: str | None) -> None:
    """Replace the number of the SMS ``rows``; None gives each row ``purged-sms<id>``.

    A message still queued can no longer reach anyone, so it is cancelled first (the
    outbox would otherwise try to text the placeholder).
    """
    session.execute(
        update(SmsMessage)
        .where(rows, SmsMessage.send_status == SmsSendStatus.QUEUED)
        .values(send_status=SmsSendStatus.CANCELLED)
    )
    value = literal(PURGED_SMS_PREFIX) + cast(SmsMessage.id, String) if placeholder is None else literal(placeholder)
    session.execute(update(SmsMessage).where(rows).values(phone_e164=value))


def _purge_sms_without_contact(session: Session, cutoff: dt.datetime) -> int:
    """Forget numbers of SMS rows older than ``cutoff`` that no live contact holds; returns how many."""
    has_contact = select(Contact.id).where(Contact.phone_e164 == SmsMessage.phone_e164)
    rows = and_(SmsMessage.created_at < cutoff, ~SmsMessage.phone_e164.startswith(PURGED_PREFIX), ~exists(has_contact))
    count = session.scalar(select(func.count(SmsMessage.id)).where(rows)) or 0
    if count:
        _forget_sms_numbers(session, rows, None)
    return count


def _mask_error_texts(session: Session) -> None:
    """Mask numbers in the provider error texts of every purged SMS row and survey (idempotent)."""
    sms_rows = session.scalars(
        select(SmsMessage).where(SmsMessage.phone_e164.startswith(PURGED_PREFIX), SmsMessage.error_message.is_not(None))
    )
    for message in sms_rows:
        message.error_message = mask_numbers(message.error_message or "")
    surveys = session.scalars(
        select(Survey)
        .join(Contact, Survey.contact_id == Contact.id)
        .where(Contact.phone_e164.startswith(PURGED_PREFIX), Survey.last_error_message.is_not(None))
    )
    for survey in surveys:
        survey.last_error_message = mask_numbers(survey.last_error_message or "")
    session.flush()


def purge_suppressions(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Delete suppressions older than the retention period; returns how many."""
    check_retention_days(retention_days)
    cutoff = now - dt.timedelta(days=retention_days)
    result = session.execute(delete(PhoneSuppression).where(PhoneSuppression.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
