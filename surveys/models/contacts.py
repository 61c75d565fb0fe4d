"""Citizens' phone numbers (personal data), the opt-out list and numbers no SMS can reach."""

from __future__ import annotations

import datetime as dt
import re

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


#: A run of 7 or more digits (ASCII or full-width), up to two spaces, hyphens or dots
#: between them (138 1234 5678, 138　1234　5678, 0575-8512-3456, 138.1234.5678): a phone
#: number, an ID-card number, a bank card. Shorter numbers (罚了200元, 等了40分钟) are left
#: alone, and so is a date (2024-11-20). Numbers written in Chinese numerals (一三八…) are
#: not recognised.
_DIGITS = "0-9０-９"
_LONG_NUMBER = re.compile(rf"[+＋]?[{_DIGITS}](?:[ \u3000\-－—–.．·]{{0,2}}[{_DIGITS}]){{6,}}")
_DATE = re.compile(rf"[{_DIGITS}]{{4}}[\-－.．/／][{_DIGITS}]{{1,2}}[\-－.．/／][{_DIGITS}]{{1,2}}")
_DIGIT = re.compile(rf"[{_DIGITS}]")


def mask_numbers_in_text(text: str) -> str:
    """Mask the long numbers a citizen typed into free text (请打我电话13812345678).

    The contact's own number is masked everywhere and shown in full only by an audited
    reveal; a number in the comment must not undo that on every page and export that
    quotes it. Of 11 digits or more the first 3 and last 4 stay (138****5678, as
    :func:`mask_phone`); of 7–10 only the last 2.
    """

    def masked(match: re.Match[str]) -> str:
        number = match.group(0)
        if _DATE.fullmatch(number):
            return number
        digits = len(_DIGIT.findall(number))
        keep_first, keep_last = (3, 4) if digits >= 11 else (0, 2)
        seen = 0
        chars = []
        for char in number:
            if _DIGIT.fullmatch(char):
                seen += 1
                if keep_first < seen <= digits - keep_last:
                    char = "*"
            chars.append(char)
        return "".join(chars)

    return _LONG_NUMBER.sub(masked, text)
