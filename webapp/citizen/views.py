"""The survey page: one GET to show it (and mark it opened), one POST to answer."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from surveys.answers import (
    RATING_LABELS,
    AlreadyAnsweredError,
    SurveyClosedError,
    find_survey_by_token,
    is_expired,
    record_open,
    submit_answer,
    validate_answer,
)
from surveys.errors import ValidationError
from surveys.models import Channel, Survey
from surveys.states import ANSWERABLE_SURVEY_STATES, SurveyStatus
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.extensions import limiter

bp = Blueprint("citizen", __name__, url_prefix="/s")


def _closed_page(survey: Survey | None) -> tuple[str, int] | None:
    """The page for a link that cannot take an answer, or None if it can."""
    if survey is None:
        return render_template("citizen/unknown.html"), 404
    if survey.status is SurveyStatus.ANSWERED and survey.response is not None:
        return render_template("citizen/answered.html", survey=survey, labels=RATING_LABELS), 200
    if survey.status is SurveyStatus.OPTED_OUT:
        return render_template("citizen/closed.html", survey=survey, reason="opted_out"), 410
    if is_expired(survey, clock_now()):
        return render_template("citizen/closed.html", survey=survey, reason="expired"), 410
    if survey.status not in ANSWERABLE_SURVEY_STATES:
        return render_template("citizen/unknown.html"), 404
    return None


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SURVEY_RATE_LIMIT"])
def survey_page(token: str) -> Response | str | tuple[str, int]:
    """Show the survey, or store the answer and thank the citizen."""
    session = get_session()
    survey = find_survey_by_token(session, token)
    closed = _closed_page(survey)
    if closed is not None:
        return closed
    assert survey is not None  # noqa: S101  (narrowed by _closed_page)
    now = clock_now()
    if request.method == "GET":
        record_open(session, survey, now)
        session.commit()
        return render_template("citizen/survey.html", survey=survey, labels=RATING_LABELS, errors={}, form={})
    try:
        answer = validate_answer(request.form.get("overall"), request.form.get("comment", ""))
        submit_answer(session, survey, answer, Channel.WEB, now)
    except AlreadyAnsweredError:
        session.rollback()
        return render_template("citizen/answered.html", survey=survey, labels=RATING_LABELS), 200
    except SurveyClosedError:
        session.rollback()
        return render_template("citizen/closed.html", survey=survey, reason="expired"), 410
    except ValidationError as exc:
        session.rollback()
        errors = {exc.field: exc.reason}
        return render_template(
            "citizen/survey.html", survey=survey, labels=RATING_LABELS, errors=errors, form=request.form
        ), 400
    session.commit()
    return render_template("citizen/thanks.html", survey=survey)
