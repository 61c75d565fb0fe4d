"""Saved versions of the complaint-category taxonomy (服务态度, 出警速度 … 其他)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from surveys.models.units import User


class TaxonomyRevision(Base):
    """One version of the taxonomy an administrator saved; the newest is in force.

    Append-only: every analysis records a model version that carries the taxonomy's
    fingerprint, so the categories it was made with stay traceable, and a mistaken edit
    is undone by saving the earlier categories again. With no row the shipped default
    (``nlp/resources/taxonomy.json``) is in force.
    """

    __tablename__ = "taxonomy_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The taxonomy in the JSON form ``nlp.Taxonomy.from_json`` reads.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<TaxonomyRevision {self.id}>"
