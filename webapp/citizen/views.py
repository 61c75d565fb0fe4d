"""The citizen's survey pages under ``/s/<token>``: show, answer, opt out.

No login, no cookie: the unguessable token in the link is the citizen's only credential,
which is why these views are exempt from CSRF protection. CSRF defends *ambient*
authority (a cookie the browser attaches to a forged cross-site request); here there is
none to abuse, because a forged request would have to carry the token, and whoever knows
the token can simply answer. Dropping the session cookie also means the page sets no
cookie at all (the privacy notice says so) and an answer left open for days still
submits, where a session-bound CSRF token would have expired after a few hours.

Guessing is made useless by the token's 72 bits and by a per-client limit on lookups of
unknown tokens, on top of a per-client budget of writes (:mod:`webapp.citizen.budgets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from limits import RateLimitItem
from sqlalchemy import Connection
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from surveys.answers import (
    MAX_COMMENT_CHARS,
    AlreadyAnsweredError,
    AnswerInput,
    InvalidAnswerError,
    SurveyClosedError,
    store_answer,
    store_answer_on,
    summarize_answer,
    validate_answer,
)
from surveys.errors import ValidationError
from surveys.models import Channel
from surveys.questions import DIMENSION_LABELS, OVERALL_LABELS, QuestionSet, question_set_for, resolve_question_set
from surveys.states import SurveyStatus
from surveys.tokens import (
    SurveyLink,
    find_survey_link,
    is_link_forgotten,
    is_link_opted_out,
    open_survey_link,
    opt_out_by_link,
    read_survey_link,
    record_open,
)
from surveys.units import hotline_tel_uri
from webapp.citizen.budgets import spent_budget, use_up_guess
from webapp.citizen.connections import postgresql_connection
from webapp.citizen.forms import SurveyForm, parse_survey_form
from webapp.citizen.skeletons import Skeleton, slot
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.extensions import csrf

bp = Blueprint("citizen", __name__, url_prefix="/s")
bp.add_app_template_filter(hotline_tel_uri, "tel_uri")

csrf.exempt(bp)  # see the module docstring


def _over_limit(*, write: bool) -> ResponseReturnValue | None:
    """A 429 page if this client has spent a budget (:mod:`webapp.citizen.budgets`), else None."""
    item = spent_budget(write=write)
    return None if item is None else _too_many_requests(item)


def _too_many_requests(item: RateLimitItem) -> ResponseReturnValue:
    body, status = _message("rate_limited", 429, unsent=_unsent_comment())
    return body, status, {"Retry-After": str(item.get_expiry())}


#: The page for an HTTP error by its code; other client errors are ``bad_request``, server errors ``server_error``.
_ERROR_KINDS = {404: "unknown", 429: "rate_limited"}


def error_page(exc: HTTPException) -> ResponseReturnValue:
    """The citizen page for an HTTP error no citizen view answered (see :mod:`webapp.errors`).

    A path no route matches (a link cut short: ``/s/``, ``/s/abc/def``), a method no
    view takes, or a body over ``MAX_CONTENT_LENGTH`` is decided before any view of
    this blueprint runs, so its handlers and ``after_request`` never see it.
    """
    code = exc.code or 500
    kind = _ERROR_KINDS.get(code, "server_error" if code >= 500 else "bad_request")
    body, status = _message(kind, code)
    headers = dict(exc.get_headers())  # Allow, for a 405
    headers.pop("Content-Type", None)
    headers["Cache-Control"] = "no-store"
    return body, status, headers


def _unknown_link() -> ResponseReturnValue:
    """The 404 page for a token that matches no survey; it uses up the guessing budget."""
    use_up_guess()
    return _message("unknown", 404)


# --- pages --------------------------------------------------------------------------------


@bp.after_request
def _cache_control(response: Response) -> Response:
    """Answers and the matter are personal: no shared cache keeps them, and a GET is always fetched anew.

    A page a POST answered with (the form with its errors, a closed link) may stay in the
    citizen's own browser, ``private, no-cache``: Back and Forward show it again, where a
    ``no-store`` POST page could only be shown as an error (ERR_CACHE_MISS) or an offer to
    send the form again. A GET stays ``no-store``, so a reopened link shows 已评价.
    """
    response.headers["Cache-Control"] = "private, no-cache" if request.method == "POST" else "no-store"
    return response


#: Stands for the token while the URLs are built once; tokens are URL-safe, so ``url_for``
#: would insert them unchanged.
_LINK_SLOT = "0SLOT0"


@dataclass(frozen=True)
class PageUrls:
    """The URLs a citizen page links to (``urls`` in the templates)."""

    stylesheet: str
    script: str
    link: str  # the survey page, and where its form posts
    optout: str


def _page_urls(token: str | None) -> PageUrls:
    """The page's URLs, from ``url_for`` results kept per app and script root.

    Four ``url_for`` calls cost as much as the rest of the page's template.
    """
    cache: dict[str, tuple[str, str, str, str]] = current_app.extensions.setdefault("citizen_urls", {})
    built = cache.get(request.script_root)
    if built is None:
        built = cache[request.script_root] = (
            url_for("static", filename="css/citizen.css"),
            url_for("static", filename="citizen/survey.js"),
            url_for("citizen.survey_page", token=_LINK_SLOT),
            url_for("citizen.opt_out", token=_LINK_SLOT),
        )
    stylesheet, script, link, optout = built
    if token is None:
        return PageUrls(stylesheet, script, "", "")
    head, _, tail = link.rpartition(_LINK_SLOT)
    optout_head, _, optout_tail = optout.rpartition(_LINK_SLOT)
    return PageUrls(stylesheet, script, head + token + tail, optout_head + token + optout_tail)


def _render(template: str, link: SurveyLink | None = None, **context: Any) -> str:
    """Render a citizen page; a page about a survey also names its matter.

    Straight through the app's Jinja environment: the citizen templates use none of the
    context processors ``render_template`` runs (Flask-Login's loads the user from the
    session cookie), and their URLs come from :func:`_page_urls`.
    """
    if link is not None:
        context["matter"] = link.matter(current_app.config["MINYI_SETTINGS"].timezone)
    urls = _page_urls(link.token if link is not None else None)
    return current_app.jinja_env.get_template(f"citizen/{template}").render(survey=link, urls=urls, **context)


def _message(kind: str, status: int, link: SurveyLink | None = None, unsent: str = "") -> tuple[str, int]:
    return _render("message.html", link, kind=kind, unsent_comment=unsent), status


#: The most of an unsent comment a refusal shows back (the form takes 500 characters).
MAX_UNSENT_CHARS = 2 * MAX_COMMENT_CHARS


def _unsent_comment() -> str:
    """The comment of an answer refused whatever it holds, to show it back.

    A link that expired while the page was open, or a spent budget: the comment is stored
    nowhere, and an elderly citizen should not have to type it again for the hotline.
    Empty for anything but a POST of the survey form.
    """
    if request.method != "POST" or request.endpoint != "citizen.submit_survey":
        return ""
    try:
        form = parse_survey_form(request.get_data(cache=True), request.content_type)
    except (ValidationError, HTTPException):  # not the form, or a body over the size limit
        return ""
    return form.comment.strip()[:MAX_UNSENT_CHARS]


def _closed_page(link: SurveyLink | None) -> ResponseReturnValue | None:
    """The page for a link that cannot take an answer, or None if it can."""
    if link is None:
        return _unknown_link()
    if link.answer is not None:
        return _render("answered.html", link, summary=summarize_answer(link.answer))
    if link.status is SurveyStatus.OPTED_OUT:
        return _message("opted_out", 410, link, _unsent_comment())
    if link.is_expired(clock_now()):
        return _message("expired", 410, link, _unsent_comment())
    if not link.is_answerable(clock_now()):
        # Never sent, failed, or a send whose outcome was lost: nothing to answer here.
        return _message("unavailable", 410, link, _unsent_comment())
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


#: The matter the clean survey page's skeleton is rendered with: a slot for each value.
_MATTER_SLOTS = SimpleNamespace(
    kind=slot("kind"),
    unit_name=slot("unit"),
    date=SimpleNamespace(year=slot("year"), month=slot("month"), day=slot("day")),
)


def _clean_survey_page(link: SurveyLink, qset: QuestionSet) -> str:
    """The survey page of a link not yet answered, from its skeleton (:mod:`webapp.citizen.skeletons`).

    Every first visit shows the same page but for the token and the matter, so the page is
    rendered once per app, script root and question set with a slot for each, and filled in.
    """
    cache: dict[tuple[str, str], Skeleton] = current_app.extensions.setdefault("citizen_survey_skeletons", {})
    key = (request.script_root, qset.ref)
    skeleton = cache.get(key)
    if skeleton is None:
        rendered = current_app.jinja_env.get_template("citizen/survey.html").render(
            survey=None,
            urls=_page_urls(slot("token")),
            matter=_MATTER_SLOTS,
            **_question_context(qset, SurveyForm(), {}),
        )
        skeleton = cache[key] = Skeleton.cut(rendered)
    matter = link.matter(current_app.config["MINYI_SETTINGS"].timezone)
    return skeleton.fill(
        {
            "token": link.token,
            "kind": matter.kind,
            "unit": matter.unit_name,
            "year": matter.date.year,
            "month": matter.date.month,
            "day": matter.date.day,
        }
    )


def _survey_form_page(
    link: SurveyLink, qset: QuestionSet, form: SurveyForm | None = None, errors: dict[str, str] | None = None
) -> ResponseReturnValue:
    if form is None and not errors:
        return _clean_survey_page(link, qset)
    page = _render("survey.html", link, **_question_context(qset, form or SurveyForm(), errors or {}))
    return page, 400 if errors else 200


@bp.get("/<token>", strict_slashes=False)  # a link copied with a slash after it still opens
def survey_page(token: str) -> ResponseReturnValue:
    """Show the questions (and mark the survey opened), or why the link takes no answer."""
    limited = _over_limit(write=False)
    if limited is not None:
        return limited
    now = clock_now()
    opening = request.method != "HEAD"  # a link checker's HEAD is not the citizen opening it
    with postgresql_connection() as connection:
        if connection is not None:
            # one statement, see surveys.tokens
            link = open_survey_link(connection, token, now) if opening else read_survey_link(connection, token)
        else:
            session = get_session()
            if opening:
                record_open(session, token, now)
            link = find_survey_link(session, token)
            session.commit()  # keep the opening; hold no transaction while rendering
    closed = _closed_page(link)
    if closed is not None:
        return closed
    assert link is not None  # noqa: S101  (narrowed by _closed_page)
    return _survey_form_page(link, question_set_for(link.category))


@bp.post("/<token>", strict_slashes=False)
def submit_survey(token: str) -> ResponseReturnValue:
    """Store the one answer and send the citizen on to the thank-you page (:func:`thanks`).

    A stored answer is answered with a redirect, not the page itself, so the thank-you
    page is a GET of its own: reloading it asks nothing and sends nothing again. A form
    with errors is the POST's own response (it holds what the citizen typed, which is
    kept nowhere else), kept for Back and Forward by :func:`_cache_control`.
    """
    limited = _over_limit(write=True)
    if limited is not None:
        return limited
    with postgresql_connection() as connection:
        if connection is not None:
            return _submit_postgresql(connection, token)
    return _submit_sqlite(token)


def _parse_answer(link: SurveyLink) -> AnswerInput | ResponseReturnValue:
    """The validated answer of this request's form, or the form page again with its errors."""
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
    return answer


def _submit_postgresql(connection: Connection, token: str) -> ResponseReturnValue:
    """Read the link, then claim and insert in one statement (autocommit: two round trips)."""
    link = read_survey_link(connection, token)
    closed = _closed_page(link)
    if closed is not None:
        return closed
    assert link is not None  # noqa: S101  (narrowed by _closed_page)
    answer = _parse_answer(link)
    if not isinstance(answer, AnswerInput):
        return answer  # the form again, with its errors
    try:
        store_answer_on(connection, link.survey_id, link.category, answer, Channel.WEB, clock_now())
    except (AlreadyAnsweredError, SurveyClosedError):
        # The statement wrote nothing (it is atomic); read what beat it. Inside a session's
        # transaction (the tests') a refused INSERT aborted it: roll back to read again.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            session = get_session()
            session.rollback()
            connection = session.connection()
        return _closed_page(read_survey_link(connection, token)) or redirect(request.url, 303)
    return redirect(url_for("citizen.thanks", token=token), 303)


def _submit_sqlite(token: str) -> ResponseReturnValue:
    session = get_session()
    link = find_survey_link(session, token)
    closed = _closed_page(link)
    if closed is not None:
        return closed
    assert link is not None  # noqa: S101  (narrowed by _closed_page)
    answer = _parse_answer(link)
    if not isinstance(answer, AnswerInput):
        return answer  # the form again, with its errors
    # End the read transaction before writing: SQLite cannot turn a transaction that has
    # read into a writer once another connection (a double tap, the in-process scheduler)
    # has written since, and fails at once with "database is locked"; one that starts with
    # its write waits for the lock.
    session.commit()
    try:
        store_answer(session, link.survey_id, link.category, answer, Channel.WEB, clock_now())
    except (AlreadyAnsweredError, SurveyClosedError):
        session.rollback()
        return _closed_page(find_survey_link(session, token)) or redirect(request.url, 303)
    session.commit()
    return redirect(url_for("citizen.thanks", token=token), 303)


@bp.get("/<token>/thanks")
def thanks(token: str) -> ResponseReturnValue:
    """The thank-you page of an answered survey, with what was answered; an unanswered one shows its questions."""
    limited = _over_limit(write=False)
    if limited is not None:
        return limited
    with postgresql_connection() as connection:
        link = read_survey_link(connection, token) if connection is not None else find_survey_link(get_session(), token)
    if link is None:
        return _unknown_link()
    if link.answer is None:
        return redirect(url_for("citizen.survey_page", token=token), 303)
    return _render("thanks.html", link, summary=summarize_answer(link.answer))


@bp.route("/<token>/optout", methods=["GET", "POST"])
def opt_out(token: str) -> ResponseReturnValue:
    """Ask for confirmation (GET), then stop all messages to this citizen (POST).

    Two steps, because a stray tap on a small screen must not silence someone for good;
    any link the citizen received works, even an expired or answered one.
    """
    limited = _over_limit(write=request.method == "POST")
    if limited is not None:
        return limited
    session = get_session()
    link = find_survey_link(session, token)
    if link is None:
        return _unknown_link()
    if is_link_forgotten(session, link):
        return _message("optout_forgotten", 410, link)
    if request.method == "POST":
        opt_out_by_link(session, link, clock_now())
        session.commit()
        return redirect(url_for("citizen.opt_out", token=token), 303)
    if is_link_opted_out(session, link):
        return _message("opted_out", 200, link)
    return _render("optout.html", link, can_answer=link.answer is None and link.is_answerable(clock_now()))
