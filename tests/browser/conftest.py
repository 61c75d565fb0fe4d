"""Browser tests: the real app served on 127.0.0.1 to a real headless Chromium.

The rest of the suite shares one rolled-back transaction, which a server thread with its
own connections cannot see. So the browser tests get a database of their own, built by
the migrations and committed to for real: a fresh SQLite file, or on PostgreSQL a fresh
database beside ``TEST_DATABASE_URL``'s, dropped at the end of the session. Test data is
made with the same services as production and committed before the browser looks.

Chromium is Debian's ``/usr/bin/chromium`` with ``fonts-wqy-microhei`` (without a CJK font
every character renders as a box) and ``fonts-noto-color-emoji`` (likewise for the emoji
in answers), driven by Playwright's Python package; Playwright's
own browser download is not used. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text
from werkzeug.serving import make_server

from nlp import get_default_analyzer
from surveys.accounts import create_user
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.db import make_engine, make_session_factory, utcnow
from surveys.models import CaseCategory, Channel, CitizenRole, Role, Survey, Unit, UnitLevel
from surveys.planning import new_token
from surveys.schema import upgrade
from surveys.settings import load_settings
from surveys.states import SurveyStatus
from surveys.triage import open_ticket_if_needed
from surveys.units import create_unit
from tests.browser.live_server import LiveServer
from tests.factories import TEST_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 360, "height": 640}

_serial = itertools.count(1)


@pytest.fixture(scope="session")
def browser_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A committed database for the live server, thrown away after the session."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.sqlite3'}"
        return
    name = f"{url.database}_browser_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def browser_engine(browser_database_url: str) -> Iterator[Engine]:
    engine = make_engine(browser_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(browser_engine: Engine, browser_database_url: str) -> Iterator[LiveServer]:
    """``webapp.create_app`` served by werkzeug in a background thread on 127.0.0.1:<free port>."""
    from webapp import create_app

    factory = make_session_factory(browser_engine)
    settings = load_settings(
        {
            "MINYI_DATABASE_URL": browser_database_url,
            "MINYI_PUBLIC_BASE_URL": "http://127.0.0.1",
            "MINYI_SMS_PROVIDER": "console",
        }
    )
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "SESSION_FACTORY": factory,
            "MINYI_SETTINGS": settings,
            "RATELIMIT_ENABLED": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", factory)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def seed_survey(live_server: LiveServer) -> Callable[..., str]:
    """``seed_survey(category=…, status=…, expires_in=…, unit_name=…, hotline=…)``: a committed survey's token."""

    def factory(
        category: CaseCategory = CaseCategory.ALARM_110,
        status: SurveyStatus = SurveyStatus.SENT,
        expires_in: dt.timedelta = dt.timedelta(days=7),
        unit_name: str = "府山派出所",
        hotline: str | None = "0575-85081110",
    ) -> str:
        n = next(_serial)
        now = utcnow()
        with live_server.session_factory.begin() as session:
            unit = create_unit(session, f"B{os.getpid()}-{n}", unit_name, UnitLevel.STATION, hotline=hotline)
            case, _ = store_case(
                session,
                CaseInput(
                    source="browser",
                    external_no=f"B{n:06d}",
                    unit=unit,
                    category=category,
                    closed_at=dt.datetime(2026, 11, 19, 3, 30, tzinfo=dt.UTC),
                    officer_name="王建国",
                    is_sensitive=False,
                    citizens=(CitizenInput(f"+86139{os.getpid() % 1000:03d}{n:05d}", CitizenRole.REPORTER),),
                ),
            )
            token = new_token()
            session.add(
                Survey(
                    case=case,
                    contact=case.participants[0].contact,
                    citizen_role=CitizenRole.REPORTER,
                    token=token,
                    status=status,
                    due_at=now - dt.timedelta(hours=1),
                    planned_at=now - dt.timedelta(hours=2),
                    sent_at=now - dt.timedelta(hours=1),
                    expires_at=now + expires_in,
                )
            )
            case.is_planned = True
        return token

    return factory


@dataclass(frozen=True)
class SeededTicket:
    """A committed ticket and the unit of its case (staff of that unit see it)."""

    id: int
    unit_id: int


@pytest.fixture
def seed_ticket(live_server: LiveServer, seed_survey: Callable[..., str]) -> Callable[..., SeededTicket]:
    """``seed_ticket(comment=…, overall=1, **seed_survey_kwargs)``: a survey answered just now, analysed into a ticket.

    The answer goes through the services the web answer and the analysis job use, so the
    ticket carries what the default analyzer flags in ``comment``.
    """

    def factory(comment: str = "民警态度恶劣，出警太慢了", overall: int = 1, **survey_kwargs: Any) -> SeededTicket:
        token = seed_survey(**survey_kwargs)
        now = utcnow()
        with live_server.session_factory.begin() as session:
            survey = session.scalars(select(Survey).where(Survey.token == token)).one()
            response = submit_answer(session, survey, AnswerInput(overall=overall, comment=comment), Channel.WEB, now)
            analysis = store_analysis(session, response, get_default_analyzer().analyze(comment), now)
            ticket = open_ticket_if_needed(session, response, analysis, now)
            assert ticket is not None, f"no ticket for {overall} and {comment!r}"
            return SeededTicket(ticket.id, survey.case.unit_id)

    return factory


@pytest.fixture
def seed_unit(live_server: LiveServer) -> Callable[..., int]:
    """``seed_unit(name, level=CITY, parent_id=None)``: a committed unit's id."""

    def factory(name: str, level: UnitLevel = UnitLevel.CITY, parent_id: int | None = None) -> int:
        with live_server.session_factory.begin() as session:
            parent = session.get_one(Unit, parent_id) if parent_id is not None else None
            code = f"B{os.getpid()}-{next(_serial)}"
            return create_unit(session, code, name, level, parent=parent, hotline="0575-12345").id

    return factory


@pytest.fixture
def seed_staff(live_server: LiveServer) -> Callable[..., str]:
    """``seed_staff(role, unit_id, display_name=None)``: a committed account's username (password TEST_PASSWORD)."""

    def factory(role: Role, unit_id: int, display_name: str | None = None) -> str:
        username = f"staff{os.getpid()}-{next(_serial)}"
        with live_server.session_factory.begin() as session:
            create_user(session, username, TEST_PASSWORD, role, session.get_one(Unit, unit_id), display_name)
        return username

    return factory


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (a new context per test keeps them apart)."""
    if not CHROMIUM.exists() or shutil.which("fc-list") is None:
        pytest.skip("needs Debian's chromium and fonts-wqy-microhei (scripts/test installs them)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(js=True, width=360)``: a fresh phone-sized page; contexts are closed after the test."""
    contexts = []

    def factory(js: bool = True, width: int = VIEWPORT["width"]) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": VIEWPORT["height"]},
            locale="zh-CN",
            java_script_enabled=js,
            has_touch=True,
        )
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, "name")`` saves the full page as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
