"""Delivery reports: a provider telling us what became of a message it accepted.

Twilio's status callbacks and Alibaba Cloud's SmsReport pushes arrive in any order and
may be repeated (Alibaba says outright that its pushes are not idempotent), so a report
only ever moves a message forward: the first final word (delivered or undelivered)
stands, and a replay or a late "sent" changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.models import SmsDirection, SmsKind, SmsMessage, SmsSendStatus, Survey
from surveys.sms.base import DeliveryReport, DeliveryState
from surveys.states import SurveyStatus
from surveys.suppressions import act_on_failure
from surveys.transitions import bulk_transition

log = logging.getLogger(__name__)


def _apply_to_survey(session: Session, message: SmsMessage, report: DeliveryReport, now: dt.datetime) -> None:
    """Move the message's survey on, only from ``sent``, in one conditional UPDATE each.

    The citizen may be answering at this very moment: a status read first and written
    later could put an answered survey back to delivered (or failed).
    """
    if message.kind is not SmsKind.SURVEY or message.survey_id is None:
        return
    this_survey = [Survey.id == message.survey_id]
    if report.state is DeliveryState.DELIVERED:
        if not bulk_transition(session, SurveyStatus.DELIVERED, now, this_survey, from_states=[SurveyStatus.SENT]):
            # Opened or answered already: only note when the message arrived.
            session.execute(update(Survey).where(*this_survey, Survey.delivered_at.is_(None)).values(delivered_at=now))
    else:
        error = {"last_error_code": report.error_code, "last_error_message": report.error_message}
        bulk_transition(session, SurveyStatus.FAILED, now, this_survey, from_states=[SurveyStatus.SENT], values=error)


def apply_delivery_report(session: Session, report: DeliveryReport, now: dt.datetime) -> bool:
    """Record ``report`` on its message (and survey); False if it changed nothing."""
    message = session.scalars(
        select(SmsMessage)
        .where(
            SmsMessage.direction == SmsDirection.OUTBOUND,
            SmsMessage.provider == report.provider,
            SmsMessage.provider_message_id == report.provider_message_id,
        )
        .order_by(SmsMessage.id.desc())
        .limit(1)
    ).one_or_none()
    if message is None:
        log.info("%s report for unknown message %s ignored", report.provider, report.provider_message_id)
        return False
    if message.send_status is not SmsSendStatus.SENT:
        return False  # final already (a replay or a late report), or never accepted
    if report.state is DeliveryState.IN_FLIGHT:
        changed = message.provider_status != report.provider_status
        message.provider_status, message.updated_at = report.provider_status, now
        return changed
    message.provider_status, message.updated_at = report.provider_status, now
    delivered = report.state is DeliveryState.DELIVERED
    message.send_status = SmsSendStatus.DELIVERED if delivered else SmsSendStatus.UNDELIVERED
    message.error_code, message.error_message = report.error_code, report.error_message
    _apply_to_survey(session, message, report, now)
    if report.state is DeliveryState.FAILED and report.failure_kind is not None:
        act_on_failure(session, message.phone_e164, report.provider, report.error_code or "", report.failure_kind, now)
    session.flush()
    log.info("%s message %s: %s", report.provider, message.id, report.provider_status)
    return True


def apply_delivery_reports(session: Session, reports: Iterable[DeliveryReport], now: dt.datetime) -> int:
    """Apply every report of one push; returns how many changed something."""
    return sum(apply_delivery_report(session, report, now) for report in reports)
