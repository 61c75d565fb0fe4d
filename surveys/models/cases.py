"""Closed cases pushed by the case-management system, and the citizens involved."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from surveys.models.contacts import Contact
    from surveys.models.units import Unit


class CaseCategory(enum.StrEnum):
    """The kind of matter, which also selects the survey's dimension questions."""

    ALARM_110 = "alarm_110"
    CRIMINAL = "criminal"
    ADMINISTRATIVE = "administrative"
    MEDIATION = "mediation"
    TRAFFIC = "traffic"
    WINDOW = "window"

    @property
    def label(self) -> str:
        """The Chinese name citizens and staff know."""
        return CASE_CATEGORY_LABELS[self]


CASE_CATEGORY_LABELS = {
    CaseCategory.ALARM_110: "110警情",
    CaseCategory.CRIMINAL: "刑事案件",
    CaseCategory.ADMINISTRATIVE: "行政案件",
    CaseCategory.MEDIATION: "治安调解",
    CaseCategory.TRAFFIC: "交通事故",
    CaseCategory.WINDOW: "户政/出入境窗口办事",
}


class CitizenRole(enum.StrEnum):
    """How the citizen was involved in the case; kept for analysis."""

    REPORTER = "reporter"  # 报警人
    PARTY = "party"  # 当事人
    APPLICANT = "applicant"  # 办事群众


class Case(Base):
    """A closed case or service item; unique per (source, external number)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("source", "external_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_no: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    category: Mapped[CaseCategory] = mapped_column(str_enum(CaseCategory, "case_category"))
    officer_name: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    is_sensitive: Mapped[bool] = mapped_column(default=False)
    is_planned: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="cases")
    participants: Mapped[list[CaseContact]] = relationship(back_populates="case", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.source}:{self.external_no} {self.category}>"


class CaseContact(Base):
    """A citizen involved in a case, with their role; each gets their own survey."""

    __tablename__ = "case_contacts"
    __table_args__ = (UniqueConstraint("case_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (case_id, contact_id) index serves lookups by case.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    role: Mapped[CitizenRole] = mapped_column(str_enum(CitizenRole, "citizen_role"))

    case: Mapped[Case] = relationship(back_populates="participants")
    contact: Mapped[Contact] = relationship()

    def __repr__(self) -> str:
        return f"<CaseContact case={self.case_id} contact={self.contact_id} {self.role}>"
