"""Test helper: the log row of a survey invitation a provider accepted (for delivery-report tests)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.models import SmsDirection, SmsKind, SmsMessage, SmsSendStatus, Survey


def record_accepted_invitation(session: Session, survey: Survey, provider: str, message_id: str) -> SmsMessage:
    """Add and flush the row dispatch writes when ``provider`` accepted ``survey``'s SMS."""
    row = SmsMessage(
        direction=SmsDirection.OUTBOUND,
        kind=SmsKind.SURVEY,
        survey_id=survey.id,
        phone_e164=survey.contact.phone_e164,
        body="【民意回访】…",
        provider=provider,
        provider_message_id=message_id,
        provider_status="queued",
        send_status=SmsSendStatus.SENT,
        created_at=survey.sent_at,
    )
    session.add(row)
    session.flush()
    return row
