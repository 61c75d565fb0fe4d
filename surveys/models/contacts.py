"""Citizens' phone numbers (personal data), the opt-out list and numbers no SMS can reach."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import PROVIDER_CODE_LENGTH, Base, UTCDateTime, utcnow


class Contact(Base):
    """One phone number in E.164; shared by every case the citizen is involved in."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_surveyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def masked_phone(self) -> str:
        """The number as the UI shows it (138****1234)."""
        return mask_phone(self.phone_e164)

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.masked_phone}>"


class OptOut(Base):
    """A phone that asked never to be contacted again (TD/退订/STOP or the page)."""

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<OptOut {self.id} {mask_phone(self.phone_e164)} via {self.source}>"


class PhoneSuppression(Base):
    """A number the provider reported as permanently unreachable (invalid, not mobile, landline).

    Kept apart from :class:`OptOut`: an opt-out is the citizen's wish, a suppression is a
    fact about the number. Both stop every future message; only the second may be lifted
    by an administrator when a number is reassigned.
    """

    __tablename__ = "phone_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    provider: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(PROVIDER_CODE_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<PhoneSuppression {self.id} {mask_phone(self.phone_e164)} {self.provider}:{self.error_code}>"


#: What a forgotten number is replaced with (``surveys.retention``), followed by an id.
PURGED_PHONE_PREFIX = "purged-"


def is_purged_phone(phone_e164: str) -> bool:
    """Whether this is the placeholder of a number the retention purge forgot."""
    return phone_e164.startswith(PURGED_PHONE_PREFIX)


def mask_phone(phone_e164: str) -> str:
    """Mask a number for display: +8613812341234 -> 138****1234; a forgotten one says so."""
    if is_purged_phone(phone_e164):
        return "（已按保留期限删除）"
    national = phone_e164.removeprefix("+86") if phone_e164.startswith("+86") else phone_e164
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"
