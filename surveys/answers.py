"""The citizen's side: find a survey by token, record the opening and the one answer."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from surveys.errors import ValidationError
from surveys.models import Case, Channel, Response, Survey
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus

log = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 500
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class AlreadyAnsweredError(ValidationError):
    """The survey has its answer already (a double tap, a replay, a second tab)."""

    def __init__(self) -> None:
        super().__init__("survey", "您已经评价过了，感谢您的参与")


class SurveyClosedError(ValidationError):
    """The survey can no longer be answered (expired, opted out, never sent)."""

    def __init__(self, status: SurveyStatus) -> None:
        super().__init__("survey", "该评价链接已失效")
        self.status = status


@dataclass(frozen=True)
class AnswerInput:
    """A validated answer."""

    overall: int
    comment: str = ""
    dimension_ratings: Mapping[str, int] = field(default_factory=dict)
    reasons: Sequence[str] = ()


def find_survey_by_token(session: Session, token: str) -> Survey | None:
    """The survey with this token, its case and unit loaded (for the page)."""
    if not token or len(token) > 32:
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


def record_open(session: Session, survey: Survey, now: dt.datetime) -> None:
    """Mark the survey ``opened`` the first time the citizen opens the link."""
    if survey.status in {SurveyStatus.SENT, SurveyStatus.DELIVERED, SurveyStatus.REMINDED} and not is_expired(
        survey, now
    ):
        survey.status = SurveyStatus.OPENED
        survey.opened_at = survey.opened_at or now
        session.flush()


def validate_answer(
    overall: object, comment: object = "", dimension_ratings: Mapping[str, object] | None = None
) -> AnswerInput:
    """Check the rating (1–5), the comment (≤ 500 characters) and any dimension ratings."""
    try:
        rating = int(str(overall))
    except (TypeError, ValueError) as exc:
        raise ValidationError("overall", "请选择总体满意度") from exc
    if rating not in RATING_LABELS:
        raise ValidationError("overall", "满意度应为 1 到 5")
    text = str(comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise ValidationError("comment", f"留言不能超过 {MAX_COMMENT_CHARS} 字")
    dims: dict[str, int] = {}
    for name, value in (dimension_ratings or {}).items():
        try:
            score = int(str(value))
        except (TypeError, ValueError) as exc:
            raise ValidationError(name, "评分无效") from exc
        if score not in RATING_LABELS:
            raise ValidationError(name, "评分应为 1 到 5")
        dims[name] = score
    return AnswerInput(overall=rating, comment=text, dimension_ratings=dims)


def submit_answer(
    session: Session, survey: Survey, answer: AnswerInput, channel: Channel, now: dt.datetime
) -> Response:
    """Store the one answer of ``survey`` and mark it ``answered``.

    The unique ``responses.survey_id`` is the real guard: two concurrent submissions both
    pass the status check, and the loser's INSERT fails with IntegrityError, reported as
    :class:`AlreadyAnsweredError` after its savepoint is rolled back.
    """
    if survey.status is SurveyStatus.ANSWERED or survey.response is not None:
        raise AlreadyAnsweredError
    if survey.status not in ANSWERABLE_SURVEY_STATES or is_expired(survey, now):
        raise SurveyClosedError(survey.status)
    response = Response(
        survey_id=survey.id,
        overall=answer.overall,
        comment=answer.comment,
        dimension_ratings=dict(answer.dimension_ratings),
        reasons=list(answer.reasons),
        channel=channel,
        submitted_at=now,
    )
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyAnsweredError from exc
    survey.response = response
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    session.flush()
    log.info("survey %s answered via %s: %d", survey.id, channel, answer.overall)
    return response
