"""A citizen's answer and the NLP analyses of its comment."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from surveys.models.surveys import Survey


class Channel(enum.StrEnum):
    """How the answer arrived."""

    WEB = "web"
    SMS = "sms"


class Response(Base):
    """The one answer to a survey; ``survey_id`` is unique so a replay cannot add a second."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall_range"),
        # The index pages' figures: one period's answers, each with its unit and rating, all
        # in one index (docs/scaling.md).
        Index("ix_responses_period", "submitted_at", "unit_id", "overall"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), unique=True)
    #: The case's unit, copied when the answer is stored (a case never changes unit), so the
    #: satisfaction figures of a unit and period need not join ``surveys`` and ``cases``.
    #: Every answer has one. A copy, so no foreign key of its own (the case's keeps it
    #: valid), and NULL is allowed only because SQLite cannot add a NOT NULL column to a
    #: table with rows without rebuilding it (migration 0008).
    unit_id: Mapped[int | None]
    overall: Mapped[int]
    dimension_ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "response_channel"))
    question_set_version: Mapped[str] = mapped_column(String(32), default="v1")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_analyzed: Mapped[bool] = mapped_column(default=False, index=True)

    survey: Mapped[Survey] = relationship(back_populates="response")
    analyses: Mapped[list[Analysis]] = relationship(back_populates="response", order_by="Analysis.id")

    def __repr__(self) -> str:
        return f"<Response {self.id} survey={self.survey_id} overall={self.overall}>"


class Analysis(Base):
    """NLP output for one response by one model version.

    Re-scoring with a new model adds a row and moves ``is_current``; old rows stay, so
    history can be compared across model versions. The database keeps at most one
    current row per response (a unique index over the current rows), so two writers
    that both missed the other's row cannot leave a response with two current analyses.
    """

    __tablename__ = "analyses"
    __table_args__ = (
        Index(
            "uq_analyses_current_response_id",
            "response_id",
            unique=True,
            postgresql_where=text("is_current"),
            sqlite_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    sentiment_score: Mapped[float] = mapped_column(Float)
    sentiment_label: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_urgent: Mapped[bool] = mapped_column(default=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_version: Mapped[str] = mapped_column(String(160))
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    response: Mapped[Response] = relationship(back_populates="analyses")

    def __repr__(self) -> str:
        return f"<Analysis {self.id} response={self.response_id} {self.sentiment_label} {self.model_version}>"
