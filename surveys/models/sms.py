"""Every SMS sent or received, the outbox of messages still to send, and the shared send rate."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import PROVIDER_CODE_LENGTH, Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from surveys.models.surveys import Survey


class SmsDirection(enum.StrEnum):
    """Outbound survey/reminder/confirmation, or an inbound citizen reply."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class SmsKind(enum.StrEnum):
    """What a message is for; it also selects the provider template (Alibaba Cloud SMS)."""

    SURVEY = "survey"
    REMINDER = "reminder"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    REPLY = "reply"


class SmsSendStatus(enum.StrEnum):
    """Where an outbound message is: queued → sending → sent → delivered/undelivered.

    ``failed`` means the provider refused it, ``undelivered`` that the provider accepted
    it and the carrier later reported it undeliverable. ``unknown`` has the meaning it has
    for surveys: a claim whose outcome was lost, never sent again automatically.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


class ReplyOutcome(enum.StrEnum):
    """What an inbound message did, so an administrator can see why a reply changed nothing."""

    RATING = "rating"
    COMMENT_ADDED = "comment_added"
    COMMENT_PENDING = "comment_pending"
    OPT_OUT = "opt_out"
    REPEATED_OPT_OUT = "repeated_opt_out"
    ALREADY_ANSWERED = "already_answered"
    NO_SURVEY = "no_survey"
    UNKNOWN_PHONE = "unknown_phone"
    EMPTY = "empty"


class SmsMessage(Base):
    """One message in either direction; outbound rows double as the outbox.

    Survey invitations are recorded after the provider accepted (or refused) them, one
    row per attempt. Reminders and opt-out confirmations are queued first and sent by the
    outbox tick, so they share the claim → send → record path and its at-most-once rule.
    An inbound message is unique per provider message id, so a replayed webhook finds its
    earlier row and changes nothing.
    """

    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_send_status_due_at", "send_status", "due_at"),
        Index(
            "uq_sms_messages_inbound_provider_message_id",
            "provider",
            "provider_message_id",
            unique=True,
            postgresql_where=text("direction = 'inbound'"),
            sqlite_where=text("direction = 'inbound'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[SmsDirection] = mapped_column(str_enum(SmsDirection, "sms_direction"))
    kind: Mapped[SmsKind] = mapped_column(str_enum(SmsKind, "sms_kind"))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"), index=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    #: Template parameters for providers that send registered templates (Alibaba Cloud).
    template_params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(PROVIDER_CODE_LENGTH))
    error_code: Mapped[str | None] = mapped_column(String(PROVIDER_CODE_LENGTH))
    error_message: Mapped[str | None] = mapped_column(Text)
    send_status: Mapped[SmsSendStatus | None] = mapped_column(str_enum(SmsSendStatus, "sms_send_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reply_outcome: Mapped[ReplyOutcome | None] = mapped_column(str_enum(ReplyOutcome, "sms_reply_outcome"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    survey: Mapped[Survey | None] = relationship()

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.direction} {self.kind} {self.provider}:{self.provider_message_id}>"


class SendRateCursor(Base):
    """The next free send slot of one provider, shared by every scheduler process.

    A per-process limiter would let N schedulers send N times the configured rate; a row
    locked for the few milliseconds of a claim spaces messages across all of them.
    """

    __tablename__ = "sms_send_rate_cursors"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_slot_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<SendRateCursor {self.provider} next={self.next_slot_at.isoformat()}>"
