"""A survey: one citizen's invitation to rate one case, and its dispatch state."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import PROVIDER_CODE_LENGTH, Base, UTCDateTime, str_enum, utcnow
from surveys.models.cases import CitizenRole
from surveys.states import SurveyStatus

if TYPE_CHECKING:
    from surveys.models.cases import Case
    from surveys.models.contacts import Contact
    from surveys.models.responses import Response


class Survey(Base):
    """One survey per (case, contact), with a timestamp for every state it reached.

    ``due_at`` and ``remind_at`` are the schedule: the dispatch tick sends planned surveys
    whose ``due_at`` has passed and the reminder tick reminds sent ones whose
    ``remind_at`` has, so the schedule lives in this table, not in a job store. Both are
    computed with the unit's policy when they are set, which keeps the sweeps simple
    indexed range queries. ``expires_at`` closes the answer window of a sent survey and
    the send window of a planned one.
    """

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("case_id", "contact_id"),
        Index("ix_surveys_status_due_at", "status", "due_at"),
        Index("ix_surveys_status_remind_at", "status", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (case_id, contact_id) index serves lookups by case.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    citizen_role: Mapped[CitizenRole] = mapped_column(str_enum(CitizenRole, "survey_citizen_role"))
    token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[SurveyStatus] = mapped_column(str_enum(SurveyStatus, "survey_status"))
    skip_reason: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error_code: Mapped[str | None] = mapped_column(String(PROVIDER_CODE_LENGTH))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    planned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    skipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    unknown_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()
    contact: Mapped[Contact] = relationship()
    response: Mapped[Response | None] = relationship(back_populates="survey")

    def __repr__(self) -> str:
        return f"<Survey {self.id} case={self.case_id} {self.status}>"
