"""The citizen's one answer: check it against the rules and its question set, store it once.

The web page and the SMS-reply channel both go through :func:`validate_answer` and then
:func:`store_answer` (the web page, with a row it read by token) or
:func:`submit_answer` (callers holding a :class:`Survey`), so a rating means the same
thing whichever way it arrived. What a link opens and shows is :mod:`surveys.tokens`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Insert, Update, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from surveys.db import UTCDateTime
from surveys.errors import ValidationError
from surveys.models import Case, CaseCategory, Channel, Response, Survey
from surveys.questions import DIMENSION_LABELS, OVERALL_LABELS, QuestionSet, question_set_by_ref, question_set_for
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus
from surveys.text import LONE_SURROGATES, without_control_characters
from surveys.tokens import StoredAnswer, is_well_formed

log = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 500
#: Kept under its old name: callers and templates read the overall labels from here.
RATING_LABELS = OVERALL_LABELS
#: Reasons are asked only of 不满意 (2) and 非常不满意 (1). Ticks left over from a changed
#: mind (a reason ticked, then 满意 chosen, which hides the list) are not the citizen's answer.
REASONS_MAX_OVERALL = 2


class AlreadyAnsweredError(ValidationError):
    """The survey has its answer already (a double tap, a replay, a second tab)."""

    def __init__(self) -> None:
        super().__init__("survey", "您已经评价过了，感谢您的参与")


class SurveyClosedError(ValidationError):
    """The survey can no longer be answered (expired, opted out, never sent)."""

    def __init__(self, status: SurveyStatus) -> None:
        super().__init__("survey", "该评价链接已失效")
        self.status = status


class InvalidAnswerError(ValidationError):
    """Every problem found in one submitted answer, keyed by field.

    The page shows them all at once (an elderly citizen should not discover a second
    mistake only after fixing the first); ``field``/``reason`` hold the first one for
    callers that report a single error, such as an SMS reply.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        first_field, first_reason = next(iter(errors.items()))
        super().__init__(first_field, first_reason)
        self.errors = dict(errors)


@dataclass(frozen=True)
class AnswerInput:
    """A validated answer.

    ``question_set_ref`` names the question set the citizen was shown; empty means the
    current set of the case's category (an SMS reply answers only the overall question,
    which every set shares).
    """

    overall: int
    comment: str = ""
    dimension_ratings: Mapping[str, int] = field(default_factory=dict)
    reasons: Sequence[str] = ()
    question_set_ref: str = ""


@dataclass(frozen=True)
class AnswerSummary:
    """A stored answer in the words the citizen chose (the 已评价 and thank-you pages)."""

    overall: int
    overall_label: str
    dimensions: tuple[tuple[str, str], ...]
    reasons: tuple[str, ...]
    comment: str
    submitted_at: dt.datetime

    @property
    def is_negative(self) -> bool:
        """Whether the answer will be followed up (核实、整改、回访)."""
        return self.overall <= REASONS_MAX_OVERALL


def find_survey_by_token(session: Session, token: str) -> Survey | None:
    """The ORM survey with this token, case, unit and response loaded, for callers that change it.

    The link pages read :func:`surveys.tokens.find_survey_link` instead (plain rows).
    """
    if not is_well_formed(token):
        return None
    stmt = (
        select(Survey)
        .where(Survey.token == token)
        .options(joinedload(Survey.case).joinedload(Case.unit), joinedload(Survey.response))
    )
    return session.scalars(stmt).unique().one_or_none()


def is_expired(survey: Survey, now: dt.datetime) -> bool:
    """Whether the link has passed its expiry (the expire job may not have run yet)."""
    return survey.status is SurveyStatus.EXPIRED or (survey.expires_at is not None and survey.expires_at <= now)


def normalize_comment(text: object) -> str:
    """The comment as stored: line breaks as LF, control characters and outer blanks removed.

    Browsers submit a textarea's line breaks as CRLF but count them as one character
    against ``maxlength``; folding them first makes the server count what the citizen
    saw. Traditional characters and emoji are kept exactly as typed (the NLP step
    normalises its own copy).
    """
    return without_control_characters("" if text is None else str(text)).strip()


#: The texts a rating may be given as: the digit, or its full-width form (Chinese keyboards).
_RATING_TEXTS = {**{str(n): n for n in OVERALL_LABELS}, **{chr(0xFF10 + n): n for n in OVERALL_LABELS}}


def _parse_rating(value: object) -> int | None:
    """1–5 from ``5``, ``"5"`` or a full-width ``"５"``; None otherwise.

    ``int()`` would also take ``"0005"``, ``"𝟓"`` or an Arabic-Indic ``"٥"``, none of which
    a form or an SMS keypad sends: they are forged, and refused like any other.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in OVERALL_LABELS else None
    return _RATING_TEXTS.get(str(value).strip())


def validate_answer(
    overall: object,
    comment: object = "",
    dimension_ratings: Mapping[str, object] | None = None,
    *,
    reasons: Iterable[str] = (),
    question_set: QuestionSet | None = None,
) -> AnswerInput:
    """Check an answer against the rules and the question set it was given on.

    The overall rating (1–5) is required; the comment has at most 500 characters;
    dimension ratings and reasons must be ones ``question_set`` asks (without a set, as
    for an SMS reply, none are accepted). Raises :class:`InvalidAnswerError` listing every
    problem.
    """
    errors: dict[str, str] = {}
    rating = _parse_rating(overall)
    if overall is None or str(overall).strip() == "":
        errors["overall"] = "请选择总体满意度"
    elif rating is None:
        errors["overall"] = "总体满意度的选项无效，请从五个选项中重新选择"

    text = normalize_comment(comment)
    if LONE_SURROGATES.search(text):
        errors["comment"] = "留言中有无法识别的字符，请删除后重新提交"
    elif len(text) > MAX_COMMENT_CHARS:
        errors["comment"] = f"留言最多 {MAX_COMMENT_CHARS} 字，现在有 {len(text)} 字，请删减一些"

    dims: dict[str, int] = {}
    for key, value in (dimension_ratings or {}).items():
        label = question_set.dimension_label(key) if question_set else None
        if label is None:
            errors["form"] = "提交的评价项目不在本问卷中，请刷新页面后重新填写"
            continue
        score = _parse_rating(value)
        if score is None:
            errors[f"dimension:{key}"] = f"“{label}”的评价无效，请从五个选项中重新选择"
        else:
            dims[key] = score

    chosen = set(reasons)
    if chosen and (question_set is None or any(question_set.reason_label(key) is None for key in chosen)):
        errors["reasons"] = "提交的不满意原因不在列表中，请刷新页面后重新选择"

    if errors:
        raise InvalidAnswerError(errors)
    assert rating is not None  # noqa: S101  (a missing or invalid rating is in ``errors``)
    kept_reasons: tuple[str, ...] = ()
    if question_set is not None and rating <= REASONS_MAX_OVERALL:
        kept_reasons = tuple(r.key for r in question_set.reasons if r.key in chosen)
    ordered_dims = {d.key: dims[d.key] for d in question_set.dimensions if d.key in dims} if question_set else {}
    return AnswerInput(
        overall=rating,
        comment=text,
        dimension_ratings=ordered_dims,
        reasons=kept_reasons,
        question_set_ref=question_set.ref if question_set else "",
    )


@functools.cache
def _claim_statement() -> Update:
    """``:claimed_id`` to ``answered`` at ``:claimed_at`` if still answerable; built once."""
    now = bindparam("claimed_at", type_=UTCDateTime())  # UPDATE reserves the column names
    return (
        update(Survey)
        .where(
            Survey.id == bindparam("claimed_id"),
            Survey.status.in_(ANSWERABLE_SURVEY_STATES),
            or_(Survey.expires_at.is_(None), Survey.expires_at > now),
        )
        .values(status=SurveyStatus.ANSWERED, answered_at=now)
    )


@functools.cache
def _insert_statement() -> Insert:
    """SQLite: the answer, its unit read from the survey's case in the same statement.

    The survey is named twice: a parameter named like a column of ``responses`` is that
    column's value and cannot also stand in the subquery.
    """
    unit_of_survey = (
        select(Case.unit_id).join(Survey, Survey.case_id == Case.id).where(Survey.id == bindparam("case_of_survey_id"))
    )
    return insert(Response).values(unit_id=unit_of_survey.scalar_subquery())


_RESPONSE_VALUES = (
    "overall",
    "dimension_ratings",
    "reasons",
    "comment",
    "channel",
    "question_set_version",
    "submitted_at",
    "is_analyzed",
)


@functools.cache
def _claim_and_insert_statement() -> Insert:
    """PostgreSQL: the claim and the INSERT as one statement (one round trip); built once.

    ``WITH claimed AS (UPDATE … RETURNING id) INSERT INTO responses … SELECT … FROM
    claimed``: no row is inserted when the claim matched none, and a refused INSERT
    undoes the claim with it (one statement is atomic).
    """
    claimed = (
        _claim_statement()
        .returning(Survey.id.label("claimed_survey_id"), Survey.case_id.label("claimed_case_id"))
        .cte("claimed")
    )
    # Parameters prefixed: one named like a column of ``surveys`` would become a SET clause.
    values = [bindparam(f"response_{name}", type_=Response.__table__.c[name].type) for name in _RESPONSE_VALUES]
    answer = select(claimed.c.claimed_survey_id, Case.unit_id, *values).join(Case, Case.id == claimed.c.claimed_case_id)
    return (
        insert(Response)
        .from_select(["survey_id", "unit_id", *_RESPONSE_VALUES], answer)
        .returning(Response.id)  # psycopg reports no row count for ``WITH … INSERT``
    )


def store_answer(
    session: Session,
    survey_id: int,
    category: CaseCategory,
    answer: AnswerInput,
    channel: Channel,
    now: dt.datetime,
) -> StoredAnswer:
    """Claim the survey for this answer and store it: the one write path for every channel.

    See :func:`store_answer_on`; this runs it on the session's connection, after writing
    any pending ORM changes (as ``session.execute`` would).
    """
    session.flush()
    return store_answer_on(session.connection(), survey_id, category, answer, channel, now)


def store_answer_on(
    connection: Connection,
    survey_id: int,
    category: CaseCategory,
    answer: AnswerInput,
    channel: Channel,
    now: dt.datetime,
) -> StoredAnswer:
    """:func:`store_answer` on a plain connection, in a transaction or in autocommit mode.

    Two guards, both in the database. First a conditional UPDATE moves the survey to
    ``answered`` only if it is still answerable and unexpired; on PostgreSQL it takes the
    row lock, so a second submission (double tap, replay, second tab) waits for the first
    to commit, then matches no row and gets :class:`AlreadyAnsweredError`. Then the INSERT
    into ``responses``, whose unique ``survey_id`` refuses a second answer even if a
    survey's status were ever wrong. Plain Core statements, no ORM unit of work: this is
    the hot path of the busiest public page. On PostgreSQL both are one statement
    (:func:`_claim_and_insert_statement`), so in autocommit mode the answer is one
    transaction of one round trip, committed durably (``synchronous_commit`` as configured).

    The usual refusals come from the claim, which wrote nothing, so the transaction stays
    usable (the SMS handler records the inbound message after one). Only a refused INSERT
    (a status that disagrees with an existing response) leaves it aborted on PostgreSQL;
    that too is reported as :class:`AlreadyAnsweredError`, and the caller must roll back.
    """
    stored = StoredAnswer(
        overall=answer.overall,
        dimension_ratings=dict(answer.dimension_ratings),
        reasons=tuple(answer.reasons),
        comment=answer.comment,
        question_set_version=answer.question_set_ref or question_set_for(category).ref,
        submitted_at=now,
    )
    row = {
        "overall": stored.overall,
        "dimension_ratings": dict(stored.dimension_ratings),
        "reasons": list(stored.reasons),
        "comment": stored.comment,
        "channel": channel,
        "question_set_version": stored.question_set_version,
        "submitted_at": now,
        "is_analyzed": False,
    }
    claim = {"claimed_id": survey_id, "claimed_at": now}
    try:
        if connection.dialect.name == "postgresql":
            params = {**claim, **{f"response_{name}": value for name, value in row.items()}}
            claimed = len(connection.execute(_claim_and_insert_statement(), params).all())
        else:
            claimed = connection.execute(_claim_statement(), claim).rowcount
            if claimed:
                params = {"survey_id": survey_id, "case_of_survey_id": survey_id, **row}
                connection.execute(_insert_statement(), params)
    except IntegrityError as exc:
        raise AlreadyAnsweredError from exc
    if not claimed:
        status = connection.execute(select(Survey.status).where(Survey.id == survey_id)).scalar_one()
        if status is SurveyStatus.ANSWERED:
            raise AlreadyAnsweredError
        raise SurveyClosedError(status)
    log.info("survey %s answered via %s: %d", survey_id, channel, answer.overall)
    return stored


def submit_answer(
    session: Session, survey: Survey, answer: AnswerInput, channel: Channel, now: dt.datetime
) -> Response:
    """Store the one answer of ``survey`` (see :func:`store_answer`) and return its row.

    For callers that hold the ORM survey (the SMS reply, the demo data); the survey object
    is brought up to date with what was stored.
    """
    if survey.status is SurveyStatus.ANSWERED or survey.response is not None:
        raise AlreadyAnsweredError
    if survey.status not in ANSWERABLE_SURVEY_STATES or is_expired(survey, now):
        raise SurveyClosedError(survey.status)
    store_answer(session, survey.id, survey.case.category, answer, channel, now)
    response = session.execute(select(Response).where(Response.survey_id == survey.id)).scalar_one()
    set_committed_value(survey, "status", SurveyStatus.ANSWERED)
    set_committed_value(survey, "answered_at", now)
    set_committed_value(survey, "response", response)
    return response


def summarize_answer(answer: StoredAnswer) -> AnswerSummary:
    """The answer with the labels of the question set it was given on.

    Keys of a set this process does not know (an answer stored by a newer deployment
    during a rolling upgrade) are shown as stored rather than hidden.
    """
    qset = question_set_by_ref(answer.question_set_version)
    dimensions = tuple(
        ((qset.dimension_label(key) if qset else None) or key, DIMENSION_LABELS.get(score, str(score)))
        for key, score in answer.dimension_ratings.items()
    )
    reasons = tuple(((qset.reason_label(key) if qset else None) or key) for key in answer.reasons)
    return AnswerSummary(
        overall=answer.overall,
        overall_label=OVERALL_LABELS.get(answer.overall, str(answer.overall)),
        dimensions=dimensions,
        reasons=reasons,
        comment=answer.comment,
        submitted_at=answer.submitted_at,
    )


def summarize_response(response: Response) -> AnswerSummary:
    """:func:`summarize_answer` of a ``responses`` row read with the ORM (the ticket page)."""
    return summarize_answer(
        StoredAnswer(
            overall=response.overall,
            dimension_ratings=dict(response.dimension_ratings),
            reasons=tuple(response.reasons),
            comment=response.comment,
            question_set_version=response.question_set_version,
            submitted_at=response.submitted_at,
        )
    )
