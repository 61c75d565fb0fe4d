"""A citizen's SMS reply: store it, then make it a rating, an opt-out or a comment.

Every inbound message is stored first, unique per provider message id, so a replayed
webhook finds its row and changes nothing. Then:

- a rating (1–5, 5 = 非常满意) answers the phone's newest survey through the same
  :func:`surveys.answers.submit_answer` as the web page, with channel ``sms``; if that
  survey has its answer already, the rating is refused, never given to an older one;
- TD/T/N/退订/STOP opts the number out of everything (even a number whose contact was
  purged), and the first time only, queues one confirmation;
- other text is a comment. While the newest survey is still open it waits on that
  survey and joins the rating when it arrives ("出警太慢" then "1"); after an answer it
  is added to that answer's comment while the survey's window lasts, and the answer is
  analysed again (a complaint sent after "5" must still reach triage).

Text sent by SMS is kept whole, even past the web form's 500 characters: the form asks
the citizen to shorten what they type, but an SMS cannot be sent back, and a follow-up
cut off unread would be reported as added while nobody (neither a handler nor the
urgency screen) ever saw it. Each message is also stored as its own row, so the
comment holds nothing that is not stored already; the analysis reads the first 2,000
characters with its models and 10,000 with the urgency rules.

A message from a number we never texted is stored and otherwise ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.answers import (
    AlreadyAnsweredError,
    SurveyClosedError,
    normalize_comment,
    submit_answer,
    validate_answer,
)
from surveys.messages import OPT_OUT_CONFIRMATION_TEMPLATE, render
from surveys.models import (
    Channel,
    Contact,
    ReplyOutcome,
    Response,
    SmsDirection,
    SmsKind,
    SmsMessage,
    Survey,
    mask_phone,
)
from surveys.optouts import opt_out
from surveys.outbox import queue_message
from surveys.reply_parsing import ParsedReply, ReplyKind, parse_reply
from surveys.settings import Settings
from surveys.sms.base import InboundSms
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus
from surveys.text import storable_text

log = logging.getLogger(__name__)

OPT_OUT_SOURCE = "sms"


def _newest_survey(session: Session, contact: Contact, now: dt.datetime) -> Survey | None:
    """The contact's most recently sent survey still within its window, answered or not.

    A reply is about the last message the citizen got, so a rating for a survey that is
    answered already is refused rather than given to an older one. The row is locked
    until the reply's transaction ends: a rating and a comment sent together (or two
    comments) arrive as concurrent webhooks, and each must see what the other wrote.
    """
    states = {*ANSWERABLE_SURVEY_STATES, SurveyStatus.ANSWERED}
    return session.scalars(
        select(Survey)
        .where(Survey.contact_id == contact.id, Survey.status.in_(states), Survey.expires_at > now)
        .order_by(Survey.sent_at.desc(), Survey.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _pending_comments(session: Session, survey: Survey) -> list[SmsMessage]:
    return list(
        session.scalars(
            select(SmsMessage)
            .where(SmsMessage.survey_id == survey.id, SmsMessage.reply_outcome == ReplyOutcome.COMMENT_PENDING)
            .order_by(SmsMessage.id)
        )
    )


def _rate(
    session: Session, contact: Contact, reply: ParsedReply, now: dt.datetime
) -> tuple[ReplyOutcome, Survey | None]:
    survey = _newest_survey(session, contact, now)
    if survey is None:
        return ReplyOutcome.NO_SURVEY, None
    if survey.status is SurveyStatus.ANSWERED:
        return ReplyOutcome.ALREADY_ANSWERED, survey
    pending = _pending_comments(session, survey)
    comment = "\n".join([*(row.body.strip() for row in pending), reply.comment]).strip()
    try:
        answer = dataclasses.replace(validate_answer(reply.rating), comment=normalize_comment(comment))
        with session.begin_nested():  # a lost race must not spoil the inbound row's transaction
            submit_answer(session, survey, answer, Channel.SMS, now)
    except AlreadyAnsweredError:
        return ReplyOutcome.ALREADY_ANSWERED, survey
    except SurveyClosedError:
        return ReplyOutcome.NO_SURVEY, survey
    for row in pending:
        row.reply_outcome = ReplyOutcome.COMMENT_ADDED
    return ReplyOutcome.RATING, survey


def _comment(
    session: Session, contact: Contact, reply: ParsedReply, now: dt.datetime
) -> tuple[ReplyOutcome, Survey | None]:
    survey = _newest_survey(session, contact, now)
    if survey is None:
        return ReplyOutcome.NO_SURVEY, None
    # Locked too: the analysis job may hold this answer; its result must not hide the comment.
    response = session.scalars(
        select(Response)
        .where(Response.survey_id == survey.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if response is None:
        return ReplyOutcome.COMMENT_PENDING, survey
    response.comment = "\n".join(part for part in (response.comment, reply.comment) if part)
    response.is_analyzed = False  # the analysis tick scores the longer comment again
    return ReplyOutcome.COMMENT_ADDED, survey


def _opt_out(
    session: Session, phone_e164: str, now: dt.datetime, settings: Settings
) -> tuple[ReplyOutcome, Survey | None]:
    if not opt_out(session, phone_e164, source=OPT_OUT_SOURCE, now=now):
        return ReplyOutcome.REPEATED_OPT_OUT, None
    queue_message(
        session,
        kind=SmsKind.OPT_OUT_CONFIRMATION,
        phone_e164=phone_e164,
        body=render(OPT_OUT_CONFIRMATION_TEMPLATE, settings.sms_signature),
        provider=settings.sms_provider,
        now=now,
    )
    return ReplyOutcome.OPT_OUT, None


def _store(session: Session, inbound: InboundSms, now: dt.datetime) -> SmsMessage | None:
    """Insert the inbound row; None if this provider message was stored before (a replay)."""
    row = SmsMessage(
        direction=SmsDirection.INBOUND,
        kind=SmsKind.REPLY,
        phone_e164=inbound.phone_e164,
        body=inbound.body,
        provider=inbound.provider,
        provider_message_id=inbound.provider_message_id,
        attempts=0,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # the unique inbound index: a concurrent copy of this webhook won
    return row


def handle_inbound_sms(session: Session, inbound: InboundSms, now: dt.datetime, settings: Settings) -> ReplyOutcome:
    """Store and act on one inbound message; a replay returns the first outcome unchanged."""
    inbound = dataclasses.replace(inbound, body=storable_text(inbound.body))
    earlier = session.scalars(
        select(SmsMessage).where(
            SmsMessage.direction == SmsDirection.INBOUND,
            SmsMessage.provider == inbound.provider,
            SmsMessage.provider_message_id == inbound.provider_message_id,
        )
    ).one_or_none()
    row = None if earlier else _store(session, inbound, now)
    if row is None:
        log.info("%s message %s replayed; ignored", inbound.provider, inbound.provider_message_id)
        return (earlier.reply_outcome if earlier else None) or ReplyOutcome.NO_SURVEY
    reply = parse_reply(inbound.body)
    contact = session.scalars(select(Contact).where(Contact.phone_e164 == inbound.phone_e164)).one_or_none()
    survey: Survey | None = None
    if reply.kind is ReplyKind.OPT_OUT:
        # By phone number, even one whose contact was purged: it must never be texted again.
        outcome, survey = _opt_out(session, inbound.phone_e164, now, settings)
    elif contact is None:
        outcome = ReplyOutcome.UNKNOWN_PHONE
    elif reply.kind is ReplyKind.EMPTY:
        outcome = ReplyOutcome.EMPTY
    elif reply.kind is ReplyKind.RATING:
        outcome, survey = _rate(session, contact, reply, now)
    else:
        outcome, survey = _comment(session, contact, reply, now)
    row.reply_outcome = outcome
    row.survey_id = survey.id if survey else None
    session.flush()
    log.info("reply from %s via %s: %s", mask_phone(inbound.phone_e164), inbound.provider, outcome)
    return outcome


def handle_inbound_messages(
    session: Session, messages: Iterable[InboundSms], now: dt.datetime, settings: Settings
) -> list[ReplyOutcome]:
    """Handle every message of one webhook call (Alibaba Cloud pushes several at once)."""
    return [handle_inbound_sms(session, message, now, settings) for message in messages]
