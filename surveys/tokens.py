"""What a survey link ``/s/<token>`` opens: the survey, its matter and answer, and its opening.

Tokens come from :func:`surveys.planning.new_token`: 12 URL-safe characters, 72 random
bits, short enough for one SMS segment and far too many to guess at a rate-limited
endpoint. The token is the citizen's only credential, so everything here is keyed by it
and nothing here reveals the phone number or case details.

The link pages are the busiest public pages, so they read plain rows (one SELECT joining
survey, case, unit and any response) into small frozen dataclasses instead of ORM
objects: the same query through the ORM costs several times the CPU in identity-map and
relationship bookkeeping that a read-only page never uses.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, Update, bindparam, func, or_, select, true, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from surveys.db import UTCDateTime
from surveys.driver_statements import DriverStatement
from surveys.models import Case, CaseCategory, Contact, Response, Survey, Unit, is_purged_phone
from surveys.optouts import is_opted_out, opt_out
from surveys.questions import matter_words
from surveys.states import ANSWERABLE_SURVEY_STATES, SURVEY_TRANSITIONS, SurveyStatus

#: What a token can look like (``secrets.token_urlsafe``); anything else is never looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,32}")


#: The states that may move to ``opened`` (sent, delivered, reminded), from the state table.
_OPENABLE_STATES = tuple(
    sorted(source for source, targets in SURVEY_TRANSITIONS.items() if SurveyStatus.OPENED in targets)
)


def _connection(session: Session) -> Connection:
    """The session's connection, in its transaction, after writing any pending ORM changes.

    The link pages run plain Core statements on it: half the CPU of ``session.execute``,
    whose ORM execution path these row-only statements do not need.
    """
    session.flush()
    return session.connection()


def is_well_formed(token: str) -> bool:
    """Whether ``token`` could be a token at all (saves a query for junk and path tricks)."""
    return TOKEN_PATTERN.fullmatch(token or "") is not None


@dataclass(frozen=True)
class Matter:
    """What a survey is about, in words the citizen recognises; never personal details."""

    kind: str
    unit_name: str
    date: dt.date


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as stored in ``responses``, read back without the ORM."""

    overall: int
    dimension_ratings: Mapping[str, int]
    reasons: tuple[str, ...]
    comment: str
    question_set_version: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class SurveyLink:
    """A survey as its link's pages need it."""

    survey_id: int
    token: str
    status: SurveyStatus
    expires_at: dt.datetime | None
    category: CaseCategory
    closed_at: dt.datetime
    unit_name: str
    unit_hotline: str | None
    answer: StoredAnswer | None

    def is_expired(self, now: dt.datetime) -> bool:
        """Past its expiry (the expire job may not have run yet)."""
        return self.status is SurveyStatus.EXPIRED or (self.expires_at is not None and self.expires_at <= now)

    def is_answerable(self, now: dt.datetime) -> bool:
        """Whether an answer could be stored now (the database has the last word)."""
        return self.answer is None and self.status in ANSWERABLE_SURVEY_STATES and not self.is_expired(now)

    def matter(self, tz: ZoneInfo) -> Matter:
        """The kind of matter, the unit and the local date it closed (as the SMS names it)."""
        local_date = self.closed_at.astimezone(tz).date()
        return Matter(kind=matter_words(self.category), unit_name=self.unit_name, date=local_date)


def _link_select(status: Any, token_param: str) -> Select[Any]:
    """The columns a link's pages read, joined from survey, case, unit and any response."""
    return (
        select(
            Survey.id,
            Survey.token,
            status,
            Survey.expires_at,
            Case.category,
            Case.closed_at,
            Unit.name,
            Unit.hotline,
            Response.overall,
            Response.dimension_ratings,
            Response.reasons,
            Response.comment,
            Response.question_set_version,
            Response.submitted_at,
        )
        .join(Case, Case.id == Survey.case_id)
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(Response, Response.survey_id == Survey.id)
        .where(Survey.token == bindparam(token_param))
    )


@functools.cache
def _link_statement() -> Select[Any]:
    """One SELECT of a link's survey, case, unit and any response, by ``:token``.

    Built once per process (on first use) with bound parameters: building a statement and
    computing its cache key cost more CPU than running it, and a statement object
    memoizes its cache key.
    """
    return _link_select(Survey.status, "token")


@functools.cache
def _open_statement() -> Update:
    """The first opening of ``:opened_token`` at ``:opened_now`` (see :func:`record_open`); built once."""
    now = bindparam("opened_now", type_=UTCDateTime())  # UPDATE reserves the column names
    return (
        update(Survey)
        .where(
            Survey.token == bindparam("opened_token"),
            # Not ``in_()``: its list is rendered per execution (see _open_and_read_driver_statement).
            or_(*(Survey.status == state for state in _OPENABLE_STATES)),
            or_(Survey.expires_at.is_(None), Survey.expires_at > now),
        )
        .values(status=SurveyStatus.OPENED, opened_at=func.coalesce(Survey.opened_at, now))
    )


@functools.cache
def _open_and_read_statement() -> Select[Any]:
    """PostgreSQL: the first opening and the read in one statement, by ``:opened_token``; built once.

    ``WITH opened AS (UPDATE … RETURNING id, status) SELECT …``: the UPDATE is
    :func:`_open_statement`'s, and the SELECT takes the status from it when it matched,
    because the outer query sees the rows as they were before the statement. The
    ``relaxed`` CTE turns ``synchronous_commit`` off for this statement's own transaction
    (``set_config(…, true)``); an opening is a statistic that may be lost in a crash,
    and in autocommit mode there is no transaction to ``SET LOCAL`` in beforehand.
    """
    opened = (
        _open_statement().returning(Survey.id.label("opened_id"), Survey.status.label("opened_status")).cte("opened")
    )
    relaxed = select(func.set_config("synchronous_commit", "off", true()).label("setting")).cte("relaxed")
    return (
        # ``:opened_token`` here too: a parameter named like a column of ``surveys`` would
        # become a SET clause of the UPDATE.
        _link_select(func.coalesce(opened.c.opened_status, Survey.status).label("status"), "opened_token")
        .outerjoin(opened, opened.c.opened_id == Survey.id)
        .join(relaxed, true())
    )


def _link_from_row(row: Any) -> SurveyLink:
    (survey_id, token, status, expires_at, category, closed_at, unit_name, hotline, overall, *answer) = row
    stored = None
    if overall is not None:
        dimension_ratings, reasons, comment, version, submitted_at = answer
        stored = StoredAnswer(overall, dict(dimension_ratings), tuple(reasons), comment, version, submitted_at)
    return SurveyLink(survey_id, token, status, expires_at, category, closed_at, unit_name, hotline, stored)


@functools.cache
def _link_driver_statement(dialect: Dialect) -> DriverStatement:
    """:func:`_link_statement` compiled once per dialect: the read of every link page but the first visit's."""
    return DriverStatement.compile(_link_statement(), dialect, ("token",))


def read_survey_link(connection: Connection, token: str) -> SurveyLink | None:
    """:func:`find_survey_link` on a plain connection (autocommit, or in its transaction)."""
    if not is_well_formed(token):
        return None
    row = _link_driver_statement(connection.dialect).first(connection, {"token": token})
    return None if row is None else _link_from_row(row)


@functools.cache
def _open_and_read_driver_statement(dialect: Dialect) -> DriverStatement:
    """:func:`_open_and_read_statement` compiled once per dialect: the survey page's one statement.

    Run on the driver's cursor, it costs the page about a third of what it costs through
    ``Connection.execute`` (docs/survey.md).
    """
    return DriverStatement.compile(_open_and_read_statement(), dialect, ("opened_token", "opened_now"))


def open_survey_link(connection: Connection, token: str, now: dt.datetime) -> SurveyLink | None:
    """PostgreSQL only: :func:`record_open` then :func:`find_survey_link` as one statement.

    One round trip, so in autocommit mode the whole first visit is one statement and its
    own transaction. SQLite has no data-modifying CTE: it uses the two calls.
    """
    if not is_well_formed(token):
        return None
    statement = _open_and_read_driver_statement(connection.dialect)
    row = statement.first(connection, {"opened_token": token, "opened_now": now})
    return None if row is None else _link_from_row(row)


def find_survey_link(session: Session, token: str) -> SurveyLink | None:
    """The survey behind ``token`` with its matter and any answer, or None."""
    if not is_well_formed(token):
        return None
    return read_survey_link(_connection(session), token)


def record_open(session: Session, token: str, now: dt.datetime) -> bool:
    """Mark the survey ``opened`` the first time its link is opened; True if this call did.

    One conditional UPDATE by token, issued *before* the survey is read: on SQLite a
    transaction that reads first cannot take the write lock once another connection has
    written in between (``database is locked``, raised at once), while one that starts
    with its write waits for the lock. Repeat visits, expired or closed surveys and
    unknown tokens match no row and change nothing.
    """
    if not is_well_formed(token):
        return False
    connection = _connection(session)
    opened = bool(connection.execute(_open_statement(), {"opened_token": token, "opened_now": now}).rowcount)
    if opened and connection.dialect.name == "postgresql":
        # The opening is a statistic, not an answer: losing the last few on a crash is
        # harmless, so this transaction does not wait for its WAL flush (answers do).
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    return opened


def _phone_of(session: Session, survey_id: int) -> str:
    stmt = select(Contact.phone_e164).join(Survey, Survey.contact_id == Contact.id).where(Survey.id == survey_id)
    return _connection(session).execute(stmt).scalar_one()


def is_link_opted_out(session: Session, link: SurveyLink) -> bool:
    """Whether the citizen behind ``link`` is on the opt-out list."""
    return link.status is SurveyStatus.OPTED_OUT or is_opted_out(session, _phone_of(session, link.survey_id))


def is_link_forgotten(session: Session, link: SurveyLink) -> bool:
    """Whether the retention purge has forgotten the number behind ``link``.

    Such a link can no longer opt anyone out: the opt-out list would get the placeholder,
    not the citizen's number, while the page said 已退订.
    """
    return is_purged_phone(_phone_of(session, link.survey_id))


def opt_out_by_link(session: Session, link: SurveyLink, now: dt.datetime) -> bool:
    """Opt the link's citizen out of all messages (the page's 退订); False if already out.

    The phone number is looked up here so that it never passes through the web layer.
    A link whose number was forgotten (:func:`is_link_forgotten`) opts nobody out.
    """
    phone = _phone_of(session, link.survey_id)
    if is_purged_phone(phone):
        return False
    return opt_out(session, phone, source="web", now=now)
