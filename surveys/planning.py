"""Planning: turn each newly closed case into one survey per citizen, or a recorded skip.

Each citizen of a case (报警人 and 当事人, both parties of a dispute) gets their own
survey with their role. Whether and when it is sent follows the unit's policy: never
for a sensitive case or an excluded category (不宜回访), never to an opted-out or
unreachable number, not if the case closed longer ago than a survey lives, only for the
sampled share of cases, and not if the same phone was surveyed within the frequency cap
(whichever case it was about). A survey that will not be sent is stored anyway as
``skipped`` with its reason, so every closed case can be accounted for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Case, CaseContact, Contact, Survey
from surveys.policy import Policy, PolicyBook, load_policy_book
from surveys.settings import Settings
from surveys.skip_reasons import SkipReason
from surveys.states import SurveyStatus
from surveys.suppressions import blocked_phones

log = logging.getLogger(__name__)

#: 12 URL-safe characters = 72 bits of randomness: short enough for one SMS segment,
#: far too many to guess at a rate-limited endpoint.
TOKEN_BYTES = 9


def new_token() -> str:
    """A fresh unguessable survey token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class PlanningReport:
    """How many surveys planning created, by outcome."""

    planned: int = 0
    skipped: int = 0
    #: Cases left for the next tick because another process holds one of their contacts.
    deferred: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def is_sampled(case: Case, sampling_percent: int) -> bool:
    """Whether ``case`` falls in its unit's sample.

    A hash of the case id rather than a random draw: the decision is reproducible (a
    re-run or an audit gets the same answer) and all citizens of a case share it.
    """
    if sampling_percent >= 100:
        return True
    digest = hashlib.sha256(f"case:{case.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < sampling_percent


def recently_surveyed(session: Session, contact: Contact, due_at: dt.datetime, policy: Policy) -> bool:
    """Whether the phone has a survey on its way, or had one within the frequency cap.

    A survey counts once it may have reached the citizen: planned or being sent (it will
    go out), sent at any later state, or ``unknown`` (it may have gone out). A failed one
    never reached them and does not count.
    """
    if policy.frequency_cap_days == 0:
        return False
    cutoff = due_at - policy.frequency_cap
    condition = and_(
        Survey.contact_id == contact.id,
        or_(
            Survey.status.in_([SurveyStatus.PLANNED, SurveyStatus.SENDING]),
            and_(Survey.status == SurveyStatus.UNKNOWN, Survey.sending_at >= cutoff),
            and_(Survey.status != SurveyStatus.FAILED, Survey.sent_at >= cutoff),
        ),
    )
    return bool(session.scalar(select(exists().where(condition))))


def _skip_reason(
    session: Session,
    case: Case,
    participant: CaseContact,
    policy: Policy,
    blocked: dict[str, SkipReason],
    due_at: dt.datetime,
    now: dt.datetime,
) -> SkipReason | None:
    if case.is_sensitive:
        return SkipReason.SENSITIVE_CASE
    if case.category in policy.excluded_categories:
        return SkipReason.EXCLUDED_CATEGORY
    if participant.contact.phone_e164 in blocked:
        return blocked[participant.contact.phone_e164]
    if case.closed_at < now - policy.expiry:
        return SkipReason.CLOSED_TOO_LONG_AGO
    if not is_sampled(case, policy.sampling_percent):
        return SkipReason.NOT_SAMPLED
    if recently_surveyed(session, participant.contact, due_at, policy):
        return SkipReason.FREQUENCY_CAP
    return None


def plan_case(
    session: Session, case: Case, now: dt.datetime, settings: Settings, book: PolicyBook | None = None
) -> list[Survey]:
    """Create the surveys of one case (planned, or skipped with a reason) and mark it planned.

    The first send window after closure + delay becomes ``due_at``; a planned survey not
    sent within the expiry period after that is expired by the expiry tick.
    """
    policy = (book or load_policy_book(session, settings)).for_unit(case.unit)
    blocked = blocked_phones(session, (p.contact.phone_e164 for p in case.participants))
    due_at = policy.next_send_window(max(case.closed_at + policy.delay, now))
    surveys = []
    for participant in case.participants:
        reason = _skip_reason(session, case, participant, policy, blocked, due_at, now)
        survey = Survey(
            case=case,
            contact=participant.contact,
            citizen_role=participant.role,
            token=new_token(),
            status=SurveyStatus.SKIPPED if reason else SurveyStatus.PLANNED,
            skip_reason=reason,
            due_at=due_at,
            expires_at=None if reason else due_at + policy.expiry,
            planned_at=now,
            skipped_at=now if reason else None,
        )
        session.add(survey)
        session.flush()  # the next participant's frequency check must see this survey
        surveys.append(survey)
        if reason:
            log.info("case %s contact %s skipped: %s", case.id, participant.contact_id, reason)
    case.is_planned = True
    session.flush()
    return surveys


def plan_due_cases(session: Session, now: dt.datetime, settings: Settings, limit: int = 500) -> PlanningReport:
    """Plan surveys for closed cases not yet planned, oldest first.

    Cases are claimed with ``SKIP LOCKED`` so several schedulers plan disjoint cases, and
    their contacts are locked the same way: a case whose phone another process is
    planning (or claiming for dispatch) right now waits for the next tick, so the
    frequency cap always sees the other survey, and planning never waits on a lock, so it
    cannot deadlock with anything.
    """
    cases = list(
        session.scalars(
            select(Case)
            .where(Case.is_planned.is_(False), Case.closed_at <= now)
            .order_by(Case.closed_at, Case.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Case)
            .options(selectinload(Case.participants).selectinload(CaseContact.contact), selectinload(Case.unit))
        )
    )
    report = PlanningReport()
    if not cases:
        return report
    contact_ids = {p.contact_id for case in cases for p in case.participants}
    locked = set(
        session.scalars(select(Contact.id).where(Contact.id.in_(contact_ids)).with_for_update(skip_locked=True))
    )
    book = load_policy_book(session, settings)
    for case in cases:
        if any(p.contact_id not in locked for p in case.participants):
            report.deferred += 1
            continue
        for survey in plan_case(session, case, now, settings, book):
            if survey.status is SurveyStatus.PLANNED:
                report.planned += 1
            else:
                report.skipped += 1
                report.reasons[survey.skip_reason or ""] += 1
    return report
