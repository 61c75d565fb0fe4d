"""Demo data: a realistic city bureau with 90 days of answered surveys.

Everything goes through the same services as production (case intake, planning,
answers, analysis, triage), so the demo also exercises the real paths. Comments come
from the project's own labelled corpus (nlp/resources/corpus), chosen by the rating's
sentiment, so every page shows varied real-looking Chinese text.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import Engine, inspect, literal, select
from sqlalchemy.orm import Session

from nlp import Analyzer
from surveys.accounts import create_api_key, create_user
from surveys.analysis import store_analysis
from surveys.answers import AnswerInput, submit_answer
from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.db import Base
from surveys.models import CaseCategory, Channel, CitizenRole, Role, Survey, Ticket, Unit, UnitLevel, User
from surveys.planning import plan_case
from surveys.policy import PolicyOverrides
from surveys.policy_admin import save_policy
from surveys.settings import Settings
from surveys.states import SurveyStatus, TicketStatus
from surveys.triage import change_ticket_status, open_ticket_if_needed
from surveys.units import create_unit

BRANCHES = {
    "越城分局": ["府山派出所", "塔山派出所", "北海派出所", "城南派出所", "交警越城大队"],
    "柯桥分局": ["柯岩派出所", "华舍派出所", "齐贤派出所", "钱清派出所", "柯桥出入境窗口"],
    "上虞分局": ["百官派出所", "曹娥派出所", "崧厦派出所", "交警上虞大队"],
    "诸暨市局": ["暨阳派出所", "浣东派出所", "店口派出所", "诸暨户政窗口", "交警诸暨大队"],
    "嵊州市局": ["剡湖派出所", "三江派出所", "长乐派出所", "嵊州户政窗口", "交警嵊州大队"],
}
CATEGORY_WEIGHTS = {
    CaseCategory.ALARM_110: 40,
    CaseCategory.CRIMINAL: 10,
    CaseCategory.ADMINISTRATIVE: 12,
    CaseCategory.MEDIATION: 12,
    CaseCategory.TRAFFIC: 12,
    CaseCategory.WINDOW: 14,
}
MOBILE_PREFIXES = ("138", "139", "137", "135", "150", "151", "186", "188", "158")
OFFICER_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DEMO_PASSWORD = "minyi-demo-2026"  # noqa: S105  (printed demo credential, not a secret)
#: The demo's quiet hours: one minute, so the fresh demo cases reach the outbox within a
#: minute at any hour of the day (an empty window is refused as a likely mistake).
DEMO_QUIET_HOURS = (dt.time(0, 0), dt.time(0, 1))


@dataclass(frozen=True)
class DemoAccount:
    """Printed after seeding so a person can log in."""

    username: str
    password: str
    role: Role
    unit_name: str


def tables_with_rows(engine: Engine) -> list[str]:
    """Our tables that hold at least one row; empty for a new or freshly migrated database.

    The demo writes the deployment policy and accounts with a printed password: seeded
    next to real data it would overwrite the one and add the other, so the ``demo``
    command refuses unless this is empty or it was told to ``--reset``. Only reads.
    """
    with engine.connect() as connection:
        existing = set(inspect(connection).get_table_names())
        return [
            table.name
            for table in Base.metadata.sorted_tables
            if table.name in existing
            and connection.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
        ]


def load_demo_comments() -> dict[str, list[str]]:
    """Corpus comments grouped by sentiment label (pos/neu/neg)."""
    corpus = resources.files("nlp").joinpath("resources/corpus/police_comments.csv")
    by_label: dict[str, list[str]] = defaultdict(list)
    if corpus.is_file():
        with corpus.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                by_label[row["sentiment"]].append(row["text"])
    by_label.setdefault("pos", []).extend(["民警很耐心，谢谢", "出警很快，满意"])
    by_label.setdefault("neu", []).extend(["一般", "还行吧"])
    by_label.setdefault("neg", []).extend(["民警态度很差", "等了很久才来人"])
    return by_label


def _build_units(session: Session) -> tuple[Unit, list[Unit]]:
    city = create_unit(session, "330600", "绍兴市公安局", UnitLevel.CITY, hotline="0575-110")
    stations: list[Unit] = []
    for b_index, (branch_name, station_names) in enumerate(BRANCHES.items(), start=1):
        branch = create_unit(session, f"3306{b_index:02d}", branch_name, UnitLevel.BRANCH, city, hotline="0575-110")
        for s_index, station_name in enumerate(station_names, start=1):
            code = f"3306{b_index:02d}{s_index:02d}"
            stations.append(create_unit(session, code, station_name, UnitLevel.STATION, branch, hotline="0575-110"))
    return city, stations


def _build_accounts(session: Session, city: Unit) -> list[DemoAccount]:
    accounts = [
        ("admin", Role.ADMIN, city, "系统管理员"),
        ("supervisor", Role.SUPERVISOR, city, "督察支队 陈督察"),
        ("handler", Role.HANDLER, city, "信访办 王警官"),
    ]
    branch = city.children[0]
    accounts += [
        ("yc_supervisor", Role.SUPERVISOR, branch, f"{branch.name} 督察"),
        ("yc_handler", Role.HANDLER, branch, f"{branch.name} 办理人员"),
    ]
    result = []
    for username, role, unit, display_name in accounts:
        create_user(session, username, DEMO_PASSWORD, role, unit, display_name)
        result.append(DemoAccount(username, DEMO_PASSWORD, role, unit.name))
    return result


def _rating(rng: random.Random, quality: float) -> int:
    weights = [0.02 + 0.06 * (1 - quality), 0.03 + 0.08 * (1 - quality), 0.08, 0.32, 0.45 + 0.2 * quality]
    return rng.choices([1, 2, 3, 4, 5], weights=weights)[0]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if phone not in used:
            used.add(phone)
            return phone


def seed_demo(
    session: Session,
    settings: Settings,
    analyzer: Analyzer,
    now: dt.datetime,
    case_count: int = 2000,
    seed: int = 20261122,
) -> tuple[list[DemoAccount], str]:
    """Build units, accounts, cases, answers, analyses and tickets; returns logins and an API key.

    Expects an empty database (:func:`tables_with_rows`): it sets the deployment policy
    and creates fixed usernames and unit codes.
    """
    rng = random.Random(seed)
    city, stations = _build_units(session)
    accounts = _build_accounts(session, city)
    _, api_key = create_api_key(session, "案件管理系统（演示）", source="jwxt")
    admin = session.scalars(select(User).where(User.username == "admin")).one()
    quiet_start, quiet_end = DEMO_QUIET_HOURS
    save_policy(session, None, PolicyOverrides(quiet_hours_start=quiet_start, quiet_hours_end=quiet_end), admin, now)
    comments = load_demo_comments()
    quality = {unit.id: rng.uniform(0.2, 1.0) for unit in stations}
    phones: set[str] = set()
    answered: list[tuple[Survey, AnswerInput, dt.datetime]] = []
    for number in range(1, case_count + 1):
        unit = rng.choice(stations)
        closed_at = now - dt.timedelta(days=rng.uniform(0.3, 90))
        case, _ = store_case(session, _demo_case(rng, unit, number, closed_at, settings, phones))
        for survey in plan_case(session, case, closed_at, settings):
            if survey.status is not SurveyStatus.PLANNED:
                continue
            sent_at = survey.due_at
            survey.status, survey.sending_at, survey.sent_at = SurveyStatus.SENT, sent_at, sent_at
            survey.expires_at = sent_at + dt.timedelta(days=settings.survey_expiry_days)
            if rng.random() < 0.72:
                rating = _rating(rng, quality[unit.id])
                label = "pos" if rating >= 4 else "neu" if rating == 3 else "neg"
                comment = rng.choice(comments[label]) if rng.random() < 0.75 else ""
                answered_at = min(sent_at + dt.timedelta(minutes=rng.randrange(3, 600)), now)
                answered.append((survey, AnswerInput(overall=rating, comment=comment), answered_at))
            elif survey.expires_at < now:
                survey.status, survey.expired_at = SurveyStatus.EXPIRED, survey.expires_at
    session.flush()

    handler = session.scalars(select(User).where(User.username == "handler")).one()
    results = analyzer.analyze_many([answer.comment for _, answer, _ in answered])
    for (survey, answer, answered_at), result in zip(answered, results, strict=True):
        response = submit_answer(session, survey, answer, Channel.WEB, answered_at)
        analysis = store_analysis(session, response, result, answered_at)
        ticket = open_ticket_if_needed(session, response, analysis, answered_at)
        if ticket is not None and answered_at < now - dt.timedelta(days=10):
            _work_old_ticket(session, ticket, handler, answered_at, rng)
    for number in range(1, 4):
        # Closed just long enough ago to be due at once: the scheduler sends these on start.
        closed_at = now - dt.timedelta(minutes=settings.survey_delay_minutes + number)
        store_case(session, _demo_case(rng, rng.choice(stations), case_count + number, closed_at, settings, phones))
    session.flush()
    return accounts, api_key


def _demo_case(
    rng: random.Random, unit: Unit, number: int, closed_at: dt.datetime, settings: Settings, phones: set[str]
) -> CaseInput:
    if "窗口" in unit.name:
        category = CaseCategory.WINDOW
    elif "交警" in unit.name:
        category = CaseCategory.TRAFFIC
    else:
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    role = CitizenRole.APPLICANT if category is CaseCategory.WINDOW else CitizenRole.REPORTER
    citizens = [CitizenInput(_phone(rng, phones), role)]
    if category is CaseCategory.MEDIATION:
        citizens.append(CitizenInput(_phone(rng, phones), CitizenRole.PARTY))
    return CaseInput(
        source="jwxt",
        external_no=f"J{closed_at.astimezone(settings.timezone):%Y%m%d}{number:05d}",
        unit=unit,
        category=category,
        closed_at=closed_at,
        officer_name=f"{rng.choice(OFFICER_SURNAMES)}警官",
        is_sensitive=rng.random() < 0.02,
        citizens=tuple(citizens),
    )


def _work_old_ticket(
    session: Session, ticket: Ticket, handler: User, opened_at: dt.datetime, rng: random.Random
) -> None:
    """Old demo tickets were worked on: most are closed, some resolved, a few escalated."""
    step = dt.timedelta(hours=rng.randrange(2, 30))
    change_ticket_status(session, ticket, TicketStatus.ASSIGNED, handler, opened_at + step)
    change_ticket_status(session, ticket, TicketStatus.IN_PROGRESS, handler, opened_at + 2 * step)
    outcome = rng.random()
    if outcome < 0.1:
        change_ticket_status(session, ticket, TicketStatus.ESCALATED, handler, opened_at + 3 * step, "需上级协调")
        return
    change_ticket_status(
        session, ticket, TicketStatus.RESOLVED, handler, opened_at + 3 * step, "已核实情况并电话回访群众，群众表示理解"
    )
    if outcome < 0.85:
        change_ticket_status(session, ticket, TicketStatus.CLOSED, handler, opened_at + 4 * step, "整改完成，回访满意")
