"""Numbers we must not text: suppressed as unreachable, or opted out by the citizen.

Planning, dispatch and the reminder tick all ask :func:`blocked_phones` for a whole
batch at once, so the check costs two queries however large the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import OptOut, PhoneSuppression, mask_phone
from surveys.optouts import opt_out
from surveys.skip_reasons import SkipReason
from surveys.sms.base import FailureKind

log = logging.getLogger(__name__)


def suppress_phone(session: Session, phone_e164: str, provider: str, error_code: str, now: dt.datetime) -> bool:
    """Record that ``phone_e164`` cannot receive SMS; False if it was already suppressed."""
    if session.scalar(select(PhoneSuppression.id).where(PhoneSuppression.phone_e164 == phone_e164)) is not None:
        return False
    session.add(PhoneSuppression(phone_e164=phone_e164, provider=provider, error_code=error_code, created_at=now))
    session.flush()
    log.info("%s suppressed after %s error %s", mask_phone(phone_e164), provider, error_code)
    return True


def blocked_phones(session: Session, phones: Iterable[str]) -> dict[str, SkipReason]:
    """Which of ``phones`` must not be texted, and why (an opt-out wins over a suppression)."""
    wanted = set(phones)
    if not wanted:
        return {}
    suppressed = session.scalars(select(PhoneSuppression.phone_e164).where(PhoneSuppression.phone_e164.in_(wanted)))
    opted_out = session.scalars(select(OptOut.phone_e164).where(OptOut.phone_e164.in_(wanted)))
    return dict.fromkeys(suppressed, SkipReason.UNREACHABLE_NUMBER) | dict.fromkeys(opted_out, SkipReason.OPTED_OUT)


def act_on_failure(
    session: Session, phone_e164: str, provider: str, error_code: str, kind: FailureKind, now: dt.datetime
) -> None:
    """Stop texting a number the provider reported as unreachable or unsubscribed.

    An unsubscription at the carrier or provider (Twilio 21610, a carrier blacklist) is
    the citizen's wish as much as a TD reply, so it joins the opt-out list and closes the
    number's open surveys; an unreachable number is suppressed.
    """
    if kind is FailureKind.UNSUBSCRIBED:
        opt_out(session, phone_e164, source=provider, now=now)
    elif kind is FailureKind.UNREACHABLE:
        suppress_phone(session, phone_e164, provider, error_code, now)
