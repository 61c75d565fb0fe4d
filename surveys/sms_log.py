"""Reading the SMS log (the console outbox, a survey's messages)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import SmsDirection, SmsMessage


def recent_outbound(session: Session, provider: str | None = None, limit: int = 100) -> list[SmsMessage]:
    """The newest outbound messages, optionally of one provider."""
    stmt = select(SmsMessage).where(SmsMessage.direction == SmsDirection.OUTBOUND)
    if provider is not None:
        stmt = stmt.where(SmsMessage.provider == provider)
    return list(session.scalars(stmt.order_by(SmsMessage.id.desc()).limit(limit)))
