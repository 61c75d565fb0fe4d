"""Every SMS sent or received, with the provider's ids and statuses."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base, UTCDateTime, str_enum, utcnow


class SmsDirection(enum.StrEnum):
    """Outbound survey/reminder/confirmation, or an inbound citizen reply."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class SmsMessage(Base):
    """One message; the console provider's outbox page lists the outbound ones."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[SmsDirection] = mapped_column(str_enum(SmsDirection, "sms_direction"))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"), index=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.direction} {self.provider}:{self.provider_message_id}>"
