"""Dispatch: send due surveys at most once.

Unlike other services, dispatch owns its transactions and takes a ``sessionmaker``: it
crosses an external side effect (the SMS) and must commit the claim *before* the send
and the result *after* it (STYLE.md 8.3). The choice is at-most-once: a citizen must
never receive the same survey twice, so a claim whose outcome is lost (the process died
between claim and record) becomes ``unknown`` for an administrator to look at and is
never re-sent automatically.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from surveys.messages import survey_link, survey_text
from surveys.models import Case, SmsDirection, SmsMessage, Survey
from surveys.policy import in_quiet_hours
from surveys.settings import Settings
from surveys.sms.base import SendResult, SmsProvider, SmsSendError
from surveys.states import SurveyStatus

log = logging.getLogger(__name__)

#: How long a claim may stay in ``sending`` before it is declared ``unknown``.
CLAIM_LEASE = dt.timedelta(minutes=10)
MAX_SEND_ATTEMPTS = 5
RETRY_BASE_DELAY = dt.timedelta(minutes=1)
RETRY_MAX_DELAY = dt.timedelta(hours=1)


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Outgoing:
    survey_id: int
    phone_e164: str
    body: str


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential back-off after ``attempts`` failed tries, capped."""
    delay: dt.timedelta = RETRY_BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX_DELAY)


def claim_due_surveys(session: Session, now: dt.datetime, settings: Settings, limit: int) -> list[_Outgoing]:
    """Move up to ``limit`` due planned surveys to ``sending`` and return what to send.

    ``FOR UPDATE SKIP LOCKED`` (compiled away on SQLite) lets several scheduler processes
    claim disjoint batches; the ``status='planned'`` re-check in the UPDATE makes a race
    lose cleanly rather than double-claim.
    """
    candidate_ids = list(
        session.scalars(
            select(Survey.id)
            .where(Survey.status == SurveyStatus.PLANNED, Survey.due_at <= now)
            .order_by(Survey.due_at, Survey.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not candidate_ids:
        return []
    claimed_ids = list(
        session.scalars(
            update(Survey)
            .where(Survey.id.in_(candidate_ids), Survey.status == SurveyStatus.PLANNED)
            .values(
                status=SurveyStatus.SENDING,
                sending_at=now,
                lease_expires_at=now + CLAIM_LEASE,
                attempts=Survey.attempts + 1,
            )
            .returning(Survey.id)
        )
    )
    surveys = session.scalars(
        select(Survey)
        .where(Survey.id.in_(claimed_ids))
        .options(joinedload(Survey.contact), joinedload(Survey.case).joinedload(Case.unit))
        .order_by(Survey.id)
    )
    return [
        _Outgoing(
            survey_id=s.id,
            phone_e164=s.contact.phone_e164,
            body=survey_text(
                s.case, survey_link(settings.public_base_url, s.token), settings.sms_signature, settings.timezone
            ),
        )
        for s in surveys
    ]


def _record_sent(
    session: Session, item: _Outgoing, result: SendResult, provider: str, now: dt.datetime, expiry: dt.timedelta
) -> None:
    survey = session.get_one(Survey, item.survey_id)
    survey.status = SurveyStatus.SENT
    survey.sent_at = now
    survey.lease_expires_at = None
    survey.expires_at = now + expiry
    survey.contact.last_surveyed_at = now
    session.add(
        SmsMessage(
            direction=SmsDirection.OUTBOUND,
            survey_id=item.survey_id,
            phone_e164=item.phone_e164,
            body=item.body,
            provider=provider,
            provider_message_id=result.provider_message_id,
            provider_status=result.status,
            created_at=now,
        )
    )


def _record_error(session: Session, item: _Outgoing, error: SmsSendError, now: dt.datetime) -> bool:
    """Store the provider's error; return True if the survey will be retried."""
    survey = session.get_one(Survey, item.survey_id)
    survey.last_error_code = error.code
    survey.last_error_message = error.message[:1000]
    survey.lease_expires_at = None
    if error.is_transient and survey.attempts < MAX_SEND_ATTEMPTS:
        survey.status = SurveyStatus.PLANNED
        survey.due_at = now + retry_delay(survey.attempts)
        return True
    survey.status = SurveyStatus.FAILED
    survey.failed_at = now
    return False


def dispatch_due_surveys(
    session_factory: sessionmaker[Session],
    provider: SmsProvider,
    settings: Settings,
    now: dt.datetime,
    limit: int | None = None,
) -> DispatchReport:
    """Claim, send and record one batch of due surveys (see the module docstring)."""
    report = DispatchReport()
    if in_quiet_hours(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.timezone):
        return report
    with session_factory.begin() as session:
        batch = claim_due_surveys(session, now, settings, limit or settings.dispatch_batch_size)
    report.claimed = len(batch)
    for item in batch:
        try:
            result = provider.send(item.phone_e164, item.body)
        except SmsSendError as error:
            log.warning("survey %s send failed: %s (transient=%s)", item.survey_id, error.code, error.is_transient)
            with session_factory.begin() as session:
                if _record_error(session, item, error, now):
                    report.retried += 1
                else:
                    report.failed += 1
            continue
        with session_factory.begin() as session:
            _record_sent(session, item, result, provider.name, now, dt.timedelta(days=settings.survey_expiry_days))
        report.sent += 1
        log.info("survey %s sent as %s", item.survey_id, result.provider_message_id)
    return report


def mark_lost_claims(session: Session, now: dt.datetime) -> int:
    """Declare ``unknown`` every claim whose lease ran out without a recorded result."""
    result = session.execute(
        update(Survey)
        .where(Survey.status == SurveyStatus.SENDING, Survey.lease_expires_at < now)
        .values(status=SurveyStatus.UNKNOWN, unknown_at=now, lease_expires_at=None)
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
    if count:
        log.warning("%d surveys in sending past their lease marked unknown", count)
    return count
