"""Dispatch: send due surveys at most once.

Unlike other services, dispatch owns its transactions and takes a ``sessionmaker``: it
crosses an external side effect (the SMS) and must commit the claim *before* the send
and the result *after* it (STYLE.md 8.3). The choice is at-most-once: a citizen must
never receive the same survey twice, so

- a claim is an UPDATE to ``sending`` with a lease, committed before the provider call;
  rows are picked with ``FOR UPDATE SKIP LOCKED`` (compiled away on SQLite) and the
  UPDATE re-checks ``status = 'planned'``, so concurrent schedulers claim disjoint rows;
- each result is recorded in its own transaction right after its send;
- a claim whose lease runs out without a result (the process died, the host lost power)
  becomes ``unknown`` for an administrator to look at, and is never sent again;
- so does a send whose request may have left without an answer (a read timeout).

A transient refusal (HTTP 429/5xx, a connection that never opened, Twilio 30003/30008)
goes back to ``planned`` with capped exponential back-off; a permanent one fails the
survey at once with the provider's code, and an unreachable or unsubscribed number stops
being texted at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from surveys.messages import render, survey_params
from surveys.models import Case, Contact, SmsDirection, SmsKind, SmsMessage, SmsSendStatus, Survey
from surveys.optouts import is_opted_out
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
from surveys.skip_reasons import SkipReason
from surveys.sms.base import FailureKind, OutgoingSms, SmsProvider
from surveys.states import SurveyStatus
from surveys.suppressions import act_on_failure, blocked_phones
from surveys.transitions import bulk_transition

log = logging.getLogger(__name__)


@dataclass
class DispatchReport(SendReport):
    """What one dispatch run did, including the surveys the policy held back at send time."""

    postponed: int = 0
    skipped: int = 0
    opted_out: int = 0


@dataclass(frozen=True)
class SurveySend:
    """One claimed survey on its way out."""

    survey_id: int
    message: OutgoingSms
    send_offset: float
    policy: Policy


def _outgoing(survey: Survey, policy: Policy, settings: Settings) -> OutgoingSms:
    params = survey_params(survey.case, survey.token, settings.public_base_url, settings.timezone)
    return OutgoingSms(
        to=survey.contact.phone_e164,
        body=render(policy.survey_template, settings.sms_signature, params),
        kind=SmsKind.SURVEY,
        params=params.template_params(),
        reference=f"survey-{survey.id}",
    )


def claim_due_surveys(
    session: Session,
    now: dt.datetime,
    settings: Settings,
    book: PolicyBook,
    schedule: SendSchedule,
    limit: int,
    report: DispatchReport,
) -> list[SurveySend]:
    """Re-check the policy for up to ``limit`` due surveys and claim those to send now.

    The policy is checked again at send time because things change after planning: the
    citizen opted out or the number was found unreachable (through another survey), or
    a retry or a late tick lands in the unit's quiet hours (the survey then waits for
    the window to open).
    """
    candidates = list(
        session.scalars(
            select(Survey)
            .where(
                Survey.status == SurveyStatus.PLANNED,
                Survey.due_at <= now,
                or_(Survey.expires_at.is_(None), Survey.expires_at > now),
            )
            .order_by(Survey.due_at, Survey.id)
            .limit(min(limit, schedule.capacity()))
            .with_for_update(skip_locked=True, of=Survey)
            .options(selectinload(Survey.contact), selectinload(Survey.case).selectinload(Case.unit))
        )
    )
    blocked = blocked_phones(session, (s.contact.phone_e164 for s in candidates))
    to_send: dict[int, tuple[Survey, Policy]] = {}
    for survey in candidates:
        reason = blocked.get(survey.contact.phone_e164)
        policy = book.for_unit(survey.case.unit)
        where = [Survey.id == survey.id]
        if reason is SkipReason.OPTED_OUT:
            report.opted_out += len(bulk_transition(session, SurveyStatus.OPTED_OUT, now, where))
        elif reason is not None:
            skipped = bulk_transition(session, SurveyStatus.SKIPPED, now, where, values={"skip_reason": reason})
            report.skipped += len(skipped)
        elif policy.in_quiet_hours(now):
            survey.due_at = policy.next_send_window(now)
            report.postponed += 1
        else:
            to_send[survey.id] = (survey, policy)
    if not to_send:
        return []
    claimed = set(
        bulk_transition(
            session,
            SurveyStatus.SENDING,
            now,
            [Survey.id.in_(to_send)],
            from_states=[SurveyStatus.PLANNED],
            values={"lease_expires_at": now + CLAIM_LEASE, "attempts": Survey.attempts + 1},
        )
    )
    sending = [pair for survey_id, pair in to_send.items() if survey_id in claimed]
    # "Last surveyed" is the last time we set out to text the number: one statement per
    # batch here rather than one per message when the results are recorded.
    contact_ids = [survey.contact_id for survey, _ in sending]
    session.execute(update(Contact).where(Contact.id.in_(contact_ids)).values(last_surveyed_at=now))
    report.claimed += len(sending)
    return [
        SurveySend(survey.id, _outgoing(survey, policy, settings), offset, policy)
        for (survey, policy), offset in zip(sending, schedule.take(len(sending)), strict=True)
    ]


def _message_row(job: SurveySend, provider: str, at: dt.datetime, status: SmsSendStatus) -> SmsMessage:
    """The log row of one attempt (survey invitations are recorded after the attempt)."""
    return SmsMessage(
        direction=SmsDirection.OUTBOUND,
        kind=SmsKind.SURVEY,
        survey_id=job.survey_id,
        phone_e164=job.message.to,
        body=job.message.body,
        template_params=dict(job.message.params),
        provider=provider,
        send_status=status,
        attempts=1,
        created_at=at,
        updated_at=at,
    )


def _record_sent(session: Session, job: SurveySend, outcome: Sent, provider: str, at: dt.datetime) -> None:
    reminder_after = job.policy.reminder_after
    remind_at = job.policy.next_send_window(at + reminder_after) if reminder_after else None
    expires_at = at + job.policy.expiry
    moved = bulk_transition(
        session,
        SurveyStatus.SENT,
        at,
        [Survey.id == job.survey_id],
        from_states=[SurveyStatus.SENDING],
        values={
            "lease_expires_at": None,
            "expires_at": expires_at,
            "remind_at": remind_at if remind_at and remind_at < expires_at else None,
        },
    )
    if not moved:
        # Only possible if this process stalled past its lease: the SMS did go out, so it
        # is recorded, but the survey stays ``unknown`` as an administrator was told.
        log.error("survey %s sent after its claim was declared unknown", job.survey_id)
    elif is_opted_out(session, job.message.to):
        # The citizen opted out while this SMS was on its way (a survey being sent cannot
        # move to ``opted_out``): now that it is sent, close it like the others.
        bulk_transition(
            session, SurveyStatus.OPTED_OUT, at, [Survey.id == job.survey_id], from_states=[SurveyStatus.SENT]
        )
    row = _message_row(job, provider, at, SmsSendStatus.SENT)
    row.provider_message_id = outcome.result.provider_message_id
    row.provider_status = outcome.result.status
    session.add(row)


def _record_refused(
    session: Session, job: SurveySend, outcome: Refused, provider: str, at: dt.datetime, report: DispatchReport
) -> None:
    error = outcome.error
    survey = session.get_one(Survey, job.survey_id)
    values: dict[str, object] = {
        "lease_expires_at": None,
        "last_error_code": error.code,
        "last_error_message": error.message[:1000],
    }
    where = [Survey.id == job.survey_id]
    if error.kind is FailureKind.TRANSIENT and survey.attempts < MAX_SEND_ATTEMPTS:
        values["due_at"] = at + retry_delay(survey.attempts)
        report.retried += len(bulk_transition(session, SurveyStatus.PLANNED, at, where, values=values))
    else:
        report.failed += len(bulk_transition(session, SurveyStatus.FAILED, at, where, values=values))
        act_on_failure(session, job.message.to, provider, error.code, error.kind, at)
    row = _message_row(job, provider, at, SmsSendStatus.FAILED)
    row.error_code, row.error_message = error.code, error.message
    session.add(row)


def _record_lost(session: Session, job: SurveySend, outcome: Lost, provider: str, at: dt.datetime) -> None:
    error = outcome.error
    values = {"lease_expires_at": None, "last_error_code": error.code, "last_error_message": error.message}
    bulk_transition(session, SurveyStatus.UNKNOWN, at, [Survey.id == job.survey_id], values=values)
    row = _message_row(job, provider, at, SmsSendStatus.UNKNOWN)
    row.error_code, row.error_message = outcome.error.code, outcome.error.message
    session.add(row)


def _release(session: Session, job: SurveySend, at: dt.datetime) -> None:
    """Back to ``planned`` untried: due again at once, or when quiet hours end."""
    values = {"lease_expires_at": None, "attempts": Survey.attempts - 1, "due_at": job.policy.next_send_window(at)}
    bulk_transition(session, SurveyStatus.PLANNED, at, [Survey.id == job.survey_id], values=values)


def dispatch_due_surveys(
    session_factory: sessionmaker[Session],
    provider: SmsProvider,
    settings: Settings,
    now: dt.datetime,
    *,
    limit: int | None = None,
    rate_per_second: float | None = None,
    clock: Clock = REAL_CLOCK,
) -> DispatchReport:
    """Claim, send and record one batch of due surveys (see the module docstring)."""
    report = DispatchReport()
    with session_factory.begin() as session:
        book = load_policy_book(session, settings)
        schedule = SendSchedule.open(session, provider.name, rate_per_second, now)
        batch = claim_due_surveys(session, now, settings, book, schedule, limit or settings.dispatch_batch_size, report)

    def record(job: SurveySend, outcome: Outcome, elapsed: dt.timedelta) -> None:
        at = now + elapsed
        with session_factory.begin() as session:
            if isinstance(outcome, Sent):
                _record_sent(session, job, outcome, provider.name, at)
                report.sent += 1
            elif isinstance(outcome, Refused):
                _record_refused(session, job, outcome, provider.name, at, report)
            elif isinstance(outcome, Lost):
                _record_lost(session, job, outcome, provider.name, at)
                report.unknown += 1
            else:
                _release(session, job, at)
                report.released += 1

    def outside_quiet_hours(job: SurveySend, elapsed: dt.timedelta) -> bool:
        return not job.policy.in_quiet_hours(now + elapsed)

    send_claimed(provider, batch, record, CLAIM_LEASE, outside_quiet_hours, clock)
    if batch:
        log.info("dispatch: %s", report)
    return report


def mark_lost_claims(session: Session, now: dt.datetime) -> int:
    """Declare ``unknown`` every claim whose lease ran out without a recorded result."""
    lost = bulk_transition(
        session,
        SurveyStatus.UNKNOWN,
        now,
        [Survey.lease_expires_at < now],
        from_states=[SurveyStatus.SENDING],
        values={"lease_expires_at": None, "last_error_code": "lease_expired"},
    )
    if lost:
        log.warning("%d surveys in sending past their lease marked unknown: %s", len(lost), lost[:20])
    return len(lost)
