"""The citizen's survey pages under ``/s/<token>``: show, answer, opt out.

No login, no cookie: the unguessable token in the link is the citizen's only credential,
which is why these views are exempt from CSRF protection. CSRF defends *ambient*
authority (a cookie the browser attaches to a forged cross-site request); here there is
none to abuse, because a forged request would have to carry the token, and whoever knows
the token can simply answer. Dropping the session cookie also means the page sets no
cookie at all (the privacy notice says so) and an answer left open for days still
submits, where a session-bound CSRF token would have expired after a few hours.

Guessing is made useless by the token's 72 bits and by a per-client limit on lookups of
unknown tokens (``SURVEY_MISS_RATE_LIMIT``), on top of a per-client budget of writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from markupsafe import Markup
from sqlalchemy import Connection, Engine
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
from webapp.citizen.forms import SurveyForm, parse_survey_form
from webapp.clock import now as clock_now
from webapp.db import get_session, session_factory
from webapp.extensions import csrf, limiter

logger = logging.getLogger(__name__)

bp = Blueprint("citizen", __name__, url_prefix="/s")
bp.add_app_template_filter(hotline_tel_uri, "tel_uri")

csrf.exempt(bp)  # see the module docstring


WRITE_SCOPE = "citizen"
MISS_SCOPE = "citizen-token-miss"


# --- per-client limits --------------------------------------------------------------------
#
# Two budgets per client, counted in the rate limiter's storage with its own strategy
# (RATELIMIT_STORAGE_URI, RATELIMIT_STRATEGY) rather than with its route decorators, whose
# per-request bookkeeping cost a quarter of the survey page's CPU:
#
# - SURVEY_MISS_RATE_LIMIT, used up only by lookups of unknown tokens (404) and tested on
#   every request, so guessing stalls while citizens opening their real links never use
#   it up, however many share one carrier address; once a guesser behind such an address
#   has spent it, its neighbours get the 429 too until the window ends (docs/survey.md);
# - SURVEY_RATE_LIMIT, used up by every write (an answer, an opt-out). Reads of real links
#   do not count: each one costs a counter increment, which the in-process storage pays
#   for with a timer thread, and a flood of reads is the reverse proxy's to stop
#   (docs/operations.md).


def _limits() -> tuple[tuple[RateLimitItem, ...], tuple[RateLimitItem, ...]] | None:
    """The parsed (writes, misses) limits of this app, or None when rate limiting is off."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    cache: dict[tuple[str, str], tuple[tuple[RateLimitItem, ...], tuple[RateLimitItem, ...]]]
    cache = current_app.extensions.setdefault("citizen_limits", {})
    source = (config["SURVEY_RATE_LIMIT"], config["SURVEY_MISS_RATE_LIMIT"])
    parsed = cache.get(source)
    if parsed is None:
        parsed = cache[source] = (tuple(parse_many(source[0])), tuple(parse_many(source[1])))
    return parsed


def _identifiers(scope: str) -> tuple[str, ...]:
    client = request.remote_addr or "127.0.0.1"  # as flask_limiter.util.get_remote_address
    prefix: str = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return (prefix, client, scope) if prefix else (client, scope)


def _over_limit(*, write: bool) -> ResponseReturnValue | None:
    """A 429 page if this client has spent a budget, else None; a ``write`` counts against it.

    The guessing budget is only tested here (a client that spent it gets nothing at all,
    real link or not); :func:`_unknown_link` uses it up.
    """
    limits = _limits()
    if limits is None:
        return None
    writes, misses = limits
    strategy = limiter.limiter
    with _counts_unless_store_down():
        for item in misses:
            if not strategy.test(item, *_identifiers(MISS_SCOPE)):
                return _too_many_requests(item)
        if write:
            for item in writes:
                if not strategy.hit(item, *_identifiers(WRITE_SCOPE)):
                    return _too_many_requests(item)
    return None


#: Seconds between two warnings that the rate-limit store is down, per process.
STORE_DOWN_WARNING_INTERVAL = 60.0
_store_down_warned_at: float | None = None


@contextmanager
def _counts_unless_store_down() -> Iterator[None]:
    """Count against the budgets, or skip counting while the limiter's store is down.

    A citizen with a real link must be able to answer while Redis is restarting: the
    token's 72 random bits are what makes guessing useless, the budgets only slow it
    down. So a storage error lets the request through uncounted (logged at most once a
    minute per process) instead of answering 500. Once a staff page has met the error,
    Flask-Limiter counts in the process (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and
    ``limiter.limiter`` is that fallback, so the budgets are counted there meanwhile.
    """
    global _store_down_warned_at
    try:
        yield
    except StorageError as exc:
        now = time.monotonic()
        if _store_down_warned_at is None or now - _store_down_warned_at >= STORE_DOWN_WARNING_INTERVAL:
            _store_down_warned_at = now
            logger.warning("rate-limit store unreachable, citizen budgets not counted: %s", exc.storage_error)


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
    limits = _limits()
    if limits is not None:
        strategy = limiter.limiter
        with _counts_unless_store_down():
            for item in limits[1]:
                strategy.hit(item, *_identifiers(MISS_SCOPE))
    return _message("unknown", 404)


# --- database access ----------------------------------------------------------------------


def _autocommit_engine() -> Engine | None:
    """The app's PostgreSQL engine in autocommit mode, or None (SQLite, or a test's connection).

    The survey page's statements are each a transaction of their own (one data-modifying
    CTE each), so they need no BEGIN or COMMIT round trip and no ORM session. The derived
    engine shares the app's connection pool.
    """
    factory = session_factory()
    cached: tuple[object, Engine | None] | None = current_app.extensions.get("citizen_autocommit_engine")
    if cached is None or cached[0] is not factory:
        bind = factory.kw.get("bind")
        engine = None
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            engine = bind.execution_options(isolation_level="AUTOCOMMIT")
        cached = current_app.extensions["citizen_autocommit_engine"] = (factory, engine)
    return cached[1]


@contextmanager
def _postgresql_connection() -> Iterator[Connection | None]:
    """A connection for the one-statement PostgreSQL path, or None on SQLite.

    In production an autocommit connection of the pool; under a session bound to an
    outer connection (the tests' rolled-back transaction) the session's own connection,
    committed (a savepoint released) on a clean exit.
    """
    engine = _autocommit_engine()
    if engine is not None:
        with engine.connect() as connection:
            yield connection
        return
    session = get_session()
    if session.get_bind().dialect.name != "postgresql":
        yield None
        return
    yield session.connection()
    session.commit()


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


def _clean_questions(qset: QuestionSet) -> Markup:
    """The unanswered questions of ``qset``, rendered once per app and question set.

    Every first visit shows the same questions; rendering them is a third of the page's
    CPU, and the result holds no token and nothing personal, so it is kept per app.
    """
    cache: dict[str, Markup] = current_app.extensions.setdefault("citizen_questions_html", {})
    html = cache.get(qset.ref)
    if html is None:
        rendered = current_app.jinja_env.get_template("citizen/_questions.html").render(
            **_question_context(qset, SurveyForm(), {})
        )
        html = cache[qset.ref] = Markup(rendered)  # noqa: S704  (our own template's autoescaped output)
    return html


def _survey_form_page(
    link: SurveyLink, qset: QuestionSet, form: SurveyForm | None = None, errors: dict[str, str] | None = None
) -> ResponseReturnValue:
    if form is None and not errors:
        return _render("survey.html", link, questions_html=_clean_questions(qset), errors={})
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
    with _postgresql_connection() as connection:
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
    with _postgresql_connection() as connection:
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
    with _postgresql_connection() as connection:
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
