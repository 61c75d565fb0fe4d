"""Complaint tickets opened from negative or alarming answers, and their history."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, str_enum, utcnow
from surveys.states import TicketStatus

if TYPE_CHECKING:
    from surveys.models.responses import Response
    from surveys.models.units import Unit, User


class TicketPriority(enum.StrEnum):
    """Sets the deadline; urgent signals jump the queue."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


class Ticket(Base):
    """A complaint to verify, fix and call back (核实、整改、回访) before ``deadline_at``."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_deadline_at", "status", "deadline_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    priority: Mapped[TicketPriority] = mapped_column(str_enum(TicketPriority, "ticket_priority"))
    category: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    response: Mapped[Response] = relationship()
    unit: Mapped[Unit] = relationship()
    assignee: Mapped[User | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.status} {self.priority}>"


class TicketEvent(Base):
    """One thing that happened to a ticket: who, when, what (also training labels)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<TicketEvent {self.id} ticket={self.ticket_id} {self.kind}>"
