"""The citizen's survey pages under ``/s/<token>``: show, answer, opt out.

No login, no cookie: the unguessable token in the link is the citizen's only credential,
which is why these views are exempt from CSRF protection. CSRF defends *ambient*
authority (a cookie the browser attaches to a forged cross-site request); here there is
none to abuse, because a forged request would have to carry the token, and whoever knows
the token can simply answer. Dropping the session cookie also means the page sets no
cookie at all (the privacy notice says so) and an answer left open for days still
submits, where a session-bound CSRF token would have expired after a few hours.

Guessing is made useless by the token's 72 bits and by a per-client limit on lookups of
unknown tokens (``SURVEY_MISS_RATE_LIMIT``), on top of the general per-client limit.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from markupsafe import Markup
from werkzeug.wrappers import Response

from surveys.answers import (
    MAX_COMMENT_CHARS,
    AlreadyAnsweredError,
    InvalidAnswerError,
    SurveyClosedError,
    store_answer,
    summarize_answer,
    validate_answer,
)
from surveys.errors import ValidationError
from surveys.models import Channel
from surveys.questions import DIMENSION_LABELS, OVERALL_LABELS, QuestionSet, question_set_for, resolve_question_set
from surveys.states import SurveyStatus
from surveys.tokens import SurveyLink, find_survey_link, is_link_opted_out, opt_out_by_link, record_open
from webapp.citizen.forms import SurveyForm, parse_survey_form
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.extensions import csrf, limiter

bp = Blueprint("citizen", __name__, url_prefix="/s")

csrf.exempt(bp)  # see the module docstring


def _general_limit() -> str:
    limit: str = current_app.config["SURVEY_RATE_LIMIT"]
    return limit


def _miss_limit() -> str:
    limit: str = current_app.config["SURVEY_MISS_RATE_LIMIT"]
    return limit


#: Every citizen route shares one general budget per client, and a much smaller one that
#: only lookups of unknown tokens (404) use up, so guessing stalls while real citizens
#: behind a shared carrier address are not affected.
general_limit = limiter.shared_limit(_general_limit, scope="citizen")
miss_limit = limiter.shared_limit(
    _miss_limit, scope="citizen-token-miss", deduct_when=lambda response: response.status_code == 404
)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Answers and the matter are personal: no shared cache or back-forward copy keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(RateLimitExceeded)
def _too_many_requests(_exc: RateLimitExceeded) -> ResponseReturnValue:
    return _message("rate_limited", 429)


def _render(template: str, link: SurveyLink | None = None, **context: Any) -> str:
    """Render a citizen page; a page about a survey also names its matter."""
    if link is not None:
        context["matter"] = link.matter(current_app.config["MINYI_SETTINGS"].timezone)
    return render_template(f"citizen/{template}", survey=link, **context)


def _message(kind: str, status: int, link: SurveyLink | None = None) -> ResponseReturnValue:
    return _render("message.html", link, kind=kind), status


def _closed_page(link: SurveyLink | None) -> ResponseReturnValue | None:
    """The page for a link that cannot take an answer, or None if it can."""
    if link is None:
        return _message("unknown", 404)
    if link.answer is not None:
        return _render("answered.html", link, summary=summarize_answer(link.answer))
    if link.status is SurveyStatus.OPTED_OUT:
        return _message("opted_out", 410, link)
    if link.is_expired(clock_now()):
        return _message("expired", 410, link)
    if not link.is_answerable(clock_now()):
        # Never sent, failed, or a send whose outcome was lost: nothing to answer here.
        return _message("unavailable", 410, link)
    return None


def _question_context(qset: QuestionSet, form: SurveyForm, errors: dict[str, str]) -> dict[str, Any]:
    return {
        "qset": qset,
        "overall_labels": OVERALL_LABELS,
        "dimension_labels": DIMENSION_LABELS,
        "max_comment_chars": MAX_COMMENT_CHARS,
        "form": form,
        "errors": errors,
    }


def _clean_questions(qset: QuestionSet) -> Markup:
    """The unanswered questions of ``qset``, rendered once per app and question set.

    Every first visit shows the same questions; rendering them is a third of the page's
    CPU, and the result holds no token and nothing personal, so it is kept per app.
    """
    cache: dict[str, Markup] = current_app.extensions.setdefault("citizen_questions_html", {})
    html = cache.get(qset.ref)
    if html is None:
        rendered = render_template("citizen/_questions.html", **_question_context(qset, SurveyForm(), {}))
        html = cache[qset.ref] = Markup(rendered)  # noqa: S704  (our own template's autoescaped output)
    return html


def _survey_form_page(
    link: SurveyLink, qset: QuestionSet, form: SurveyForm | None = None, errors: dict[str, str] | None = None
) -> ResponseReturnValue:
    if form is None and not errors:
        return _render("survey.html", link, questions_html=_clean_questions(qset), errors={})
    page = _render("survey.html", link, **_question_context(qset, form or SurveyForm(), errors or {}))
    return page, 400 if errors else 200


@bp.get("/<token>")
@general_limit
@miss_limit
def survey_page(token: str) -> ResponseReturnValue:
    """Show the questions (and mark the survey opened), or why the link takes no answer."""
    session = get_session()
    record_open(session, token, clock_now())
    link = find_survey_link(session, token)
    session.commit()  # keep the opening; hold no transaction while rendering
    closed = _closed_page(link)
    if closed is not None:
        return closed
    assert link is not None  # noqa: S101  (narrowed by _closed_page)
    return _survey_form_page(link, question_set_for(link.category))


@bp.post("/<token>")
@general_limit
@miss_limit
def submit_survey(token: str) -> ResponseReturnValue:
    """Store the one answer and thank the citizen.

    The thank-you page is the POST's own response: a reload re-posts, which shows the
    已评价 page with the stored answer, so nothing is lost or duplicated either way.
    """
    session = get_session()
    link = find_survey_link(session, token)
    closed = _closed_page(link)
    if closed is not None:
        return closed
    assert link is not None  # noqa: S101  (narrowed by _closed_page)
    form = SurveyForm()
    qset = question_set_for(link.category)
    try:
        form = parse_survey_form(request.get_data(cache=False), request.content_type)
        qset = resolve_question_set(link.category, form.question_set_ref)
        answer = validate_answer(form.overall, form.comment, form.dimensions, reasons=form.reasons, question_set=qset)
    except InvalidAnswerError as exc:
        return _survey_form_page(link, qset, form, exc.errors)
    except ValidationError as exc:
        return _survey_form_page(link, qset, form, {exc.field: exc.reason})
    if session.get_bind().dialect.name == "sqlite":
        # End the read transaction before writing: SQLite cannot turn a transaction that
        # has read into a writer once another connection (a double tap, the in-process
        # scheduler) has written since, and fails at once with "database is locked"; one
        # that starts with its write waits for the lock. PostgreSQL needs no such step:
        # the claim in store_answer waits for the row lock and re-checks the row.
        session.commit()
    try:
        stored = store_answer(session, link.survey_id, link.category, answer, Channel.WEB, clock_now())
    except (AlreadyAnsweredError, SurveyClosedError):
        session.rollback()
        return _closed_page(find_survey_link(session, token)) or redirect(request.url, 303)
    session.commit()
    return _render("thanks.html", link, summary=summarize_answer(stored))


@bp.route("/<token>/optout", methods=["GET", "POST"])
@general_limit
@miss_limit
def opt_out(token: str) -> ResponseReturnValue:
    """Ask for confirmation (GET), then stop all messages to this citizen (POST).

    Two steps, because a stray tap on a small screen must not silence someone for good;
    any link the citizen received works, even an expired or answered one.
    """
    session = get_session()
    link = find_survey_link(session, token)
    if link is None:
        return _message("unknown", 404)
    if request.method == "POST":
        opt_out_by_link(session, link, clock_now())
        session.commit()
        return redirect(url_for("citizen.opt_out", token=token), 303)
    if is_link_opted_out(session, link):
        return _message("opted_out", 200, link)
    return _render("optout.html", link)
