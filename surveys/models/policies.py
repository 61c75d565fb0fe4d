"""Dispatch policy overrides: the deployment's own row and one row per unit that differs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from surveys.models.units import Unit, User


class DispatchPolicy(Base):
    """What an administrator changed about when and whether citizens are texted.

    ``unit_id`` NULL is the deployment-wide row; a unit's row overrides it for the unit's
    whole subtree. Every setting is nullable and NULL means "inherit": the nearest unit
    up the tree that sets it wins, then the deployment row, then the environment's
    defaults (:mod:`surveys.policy` resolves this). Keeping overrides sparse is what lets
    a city bureau change its default without rewriting every station's row.
    """

    __tablename__ = "dispatch_policies"
    __table_args__ = (
        CheckConstraint("sampling_percent BETWEEN 0 AND 100", name="sampling_percent_range"),
        CheckConstraint("delay_minutes >= 0", name="delay_minutes_not_negative"),
        CheckConstraint("frequency_cap_days >= 0", name="frequency_cap_days_not_negative"),
        CheckConstraint("reminder_after_hours >= 0", name="reminder_after_hours_not_negative"),
        CheckConstraint("expiry_days >= 1", name="expiry_days_positive"),
        CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours_start_and_end_together"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    delay_minutes: Mapped[int | None]
    quiet_hours_start: Mapped[dt.time | None] = mapped_column(Time())
    quiet_hours_end: Mapped[dt.time | None] = mapped_column(Time())
    frequency_cap_days: Mapped[int | None]
    sampling_percent: Mapped[int | None]
    #: 0 turns the reminder off.
    reminder_after_hours: Mapped[int | None]
    expiry_days: Mapped[int | None]
    #: Case categories never surveyed (不宜回访), as category values.
    excluded_categories: Mapped[list[str] | None] = mapped_column(JSON)
    survey_template: Mapped[str | None] = mapped_column(Text)
    reminder_template: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit | None] = relationship()
    updated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DispatchPolicy {self.id} unit={self.unit_id}>"
