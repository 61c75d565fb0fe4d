"""The outbox: reminders and opt-out confirmations, queued in a transaction and sent after it.

A service that decides to text a citizen (the reminder tick, a TD reply arriving at the
webhook) only queues a row; the outbox tick sends it after that transaction committed,
so no SMS ever leaves for a decision that was rolled back (Indico's "side effects after
the commit"). Sending follows the same at-most-once rule as survey dispatch: claim with
a lease and commit, send, record; a lost claim becomes ``unknown`` and is not resent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from surveys.models import Case, SmsDirection, SmsKind, SmsMessage, SmsSendStatus, Survey
from surveys.policy import Policy, PolicyBook, load_policy_book
from surveys.send_rate import SendSchedule
from surveys.sending import (
    CLAIM_LEASE,
    MAX_SEND_ATTEMPTS,
    REAL_CLOCK,
    Clock,
    Lost,
    Outcome,
    Refused,
    SendReport,
    Sent,
    retry_delay,
    send_claimed,
)
from surveys.settings import Settings
from surveys.sms.base import FailureKind, OutgoingSms, SmsProvider
from surveys.states import SurveyStatus
from surveys.suppressions import act_on_failure, blocked_phones

log = logging.getLogger(__name__)

OUTBOX_BATCH_SIZE = 100


@dataclass
class OutboxReport(SendReport):
    """What one outbox run did, including messages no longer wanted or held for the morning."""

    cancelled: int = 0
    postponed: int = 0


@dataclass(frozen=True)
class QueuedSend:
    """One claimed outbox row on its way out.

    ``policy`` is the unit's dispatch policy for a reminder, whose quiet hours hold at
    the moment it is sent; None for an opt-out confirmation, which answers the
    citizen's own message at once whatever the hour.
    """

    message_id: int
    message: OutgoingSms
    send_offset: float
    policy: Policy | None

    def may_send_at(self, moment: dt.datetime) -> bool:
        """Whether this message may go out at ``moment``."""
        return self.policy is None or not self.policy.in_quiet_hours(moment)


def queue_message(
    session: Session,
    *,
    kind: SmsKind,
    phone_e164: str,
    body: str,
    provider: str,
    now: dt.datetime,
    survey_id: int | None = None,
    params: Mapping[str, str] | None = None,
) -> SmsMessage:
    """Queue ``body`` for ``phone_e164``; the outbox tick sends it after the commit."""
    row = SmsMessage(
        direction=SmsDirection.OUTBOUND,
        kind=kind,
        survey_id=survey_id,
        phone_e164=phone_e164,
        body=body,
        template_params=dict(params or {}),
        provider=provider,
        send_status=SmsSendStatus.QUEUED,
        attempts=0,
        due_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _still_wanted(row: SmsMessage, blocked: Mapping[str, object]) -> bool:
    """A confirmation always goes out; a reminder only while its survey awaits an answer."""
    if row.kind is SmsKind.OPT_OUT_CONFIRMATION:
        return True
    if row.phone_e164 in blocked:
        return False
    return row.kind is not SmsKind.REMINDER or (row.survey is not None and row.survey.status is SurveyStatus.REMINDED)


def _quiet_hours_policy(row: SmsMessage, book: PolicyBook) -> Policy | None:
    """The policy whose quiet hours hold for ``row``: a reminder's unit's, else None."""
    if row.kind is not SmsKind.REMINDER or row.survey is None:
        return None
    return book.for_unit(row.survey.case.unit)


def claim_queued_messages(
    session: Session, now: dt.datetime, schedule: SendSchedule, limit: int, report: OutboxReport, book: PolicyBook
) -> list[QueuedSend]:
    """Claim up to ``limit`` due queued rows, cancelling those no longer wanted.

    A reminder queued before quiet hours (or retried into them) waits for them to end:
    the reminder tick checked the hour when it queued, but the outbox may run later.
    """
    rows = list(
        session.scalars(
            select(SmsMessage)
            .where(SmsMessage.send_status == SmsSendStatus.QUEUED, SmsMessage.due_at <= now)
            .order_by(SmsMessage.due_at, SmsMessage.id)
            .limit(min(limit, schedule.capacity()))
            .with_for_update(skip_locked=True, of=SmsMessage)
            .options(selectinload(SmsMessage.survey).selectinload(Survey.case).selectinload(Case.unit))
        )
    )
    blocked = blocked_phones(session, (row.phone_e164 for row in rows))
    claimed: list[tuple[SmsMessage, Policy | None]] = []
    for row in rows:
        row.updated_at = now
        policy = _quiet_hours_policy(row, book)
        if not _still_wanted(row, blocked):
            row.send_status = SmsSendStatus.CANCELLED
            report.cancelled += 1
        elif policy is not None and policy.in_quiet_hours(now):
            row.due_at = policy.next_send_window(now)
            report.postponed += 1
        else:
            row.send_status = SmsSendStatus.SENDING
            row.lease_expires_at = now + CLAIM_LEASE
            row.attempts += 1
            claimed.append((row, policy))
    session.flush()
    report.claimed += len(claimed)
    return [
        QueuedSend(
            row.id,
            OutgoingSms(
                to=row.phone_e164, body=row.body, kind=row.kind, params=row.template_params, reference=f"sms-{row.id}"
            ),
            offset,
            policy,
        )
        for (row, policy), offset in zip(claimed, schedule.take(len(claimed)), strict=True)
    ]


def _record(session: Session, job: QueuedSend, outcome: Outcome, provider: str, at: dt.datetime) -> str:
    """Store one result on its row; returns the report field it counts towards."""
    row = session.get_one(SmsMessage, job.message_id)
    row.provider, row.updated_at, row.lease_expires_at = provider, at, None
    if isinstance(outcome, Sent):
        row.send_status = SmsSendStatus.SENT
        row.provider_message_id = outcome.result.provider_message_id
        row.provider_status = outcome.result.status
        return "sent"
    if isinstance(outcome, Refused):
        error = outcome.error
        row.error_code, row.error_message = error.code, error.message
        if error.kind is FailureKind.TRANSIENT and row.attempts < MAX_SEND_ATTEMPTS:
            row.send_status, row.due_at = SmsSendStatus.QUEUED, at + retry_delay(row.attempts)
            return "retried"
        row.send_status = SmsSendStatus.FAILED
        act_on_failure(session, row.phone_e164, provider, error.code, error.kind, at)
        return "failed"
    if isinstance(outcome, Lost):
        row.send_status = SmsSendStatus.UNKNOWN
        row.error_code, row.error_message = outcome.error.code, outcome.error.message
        return "unknown"
    row.send_status, row.attempts = SmsSendStatus.QUEUED, row.attempts - 1
    if job.policy is not None:
        row.due_at = job.policy.next_send_window(at)
    return "released"


def send_queued_messages(
    session_factory: sessionmaker[Session],
    provider: SmsProvider,
    settings: Settings,
    now: dt.datetime,
    *,
    limit: int = OUTBOX_BATCH_SIZE,
    rate_per_second: float | None = None,
    clock: Clock = REAL_CLOCK,
) -> OutboxReport:
    """Claim, send and record one batch of queued messages (own transactions, as dispatch)."""
    report = OutboxReport()
    with session_factory.begin() as session:
        book = load_policy_book(session, settings)
        schedule = SendSchedule.open(session, provider.name, rate_per_second, now)
        batch = claim_queued_messages(session, now, schedule, limit, report, book)

    def record(job: QueuedSend, outcome: Outcome, elapsed: dt.timedelta) -> None:
        with session_factory.begin() as session:
            counter = _record(session, job, outcome, provider.name, now + elapsed)
        setattr(report, counter, getattr(report, counter) + 1)

    def outside_quiet_hours(job: QueuedSend, elapsed: dt.timedelta) -> bool:
        return job.may_send_at(now + elapsed)

    send_claimed(provider, batch, record, CLAIM_LEASE, outside_quiet_hours, clock)
    if batch or report.postponed:
        log.info("outbox: %s", report)
    return report


def mark_lost_sends(session: Session, now: dt.datetime) -> int:
    """Declare ``unknown`` every outbox claim whose lease ran out without a result."""
    lost = list(
        session.scalars(
            update(SmsMessage)
            .where(SmsMessage.send_status == SmsSendStatus.SENDING, SmsMessage.lease_expires_at < now)
            .values(
                send_status=SmsSendStatus.UNKNOWN, lease_expires_at=None, error_code="lease_expired", updated_at=now
            )
            .returning(SmsMessage.id)
        )
    )
    if lost:
        log.warning("%d outbox messages past their lease marked unknown: %s", len(lost), lost[:20])
    return len(lost)
