"""Several real scheduler processes on one PostgreSQL database: each survey sent exactly once.

These need committed data and row locks across processes, so they run against their own
database (``<test database>_dispatch`` beside ``TEST_DATABASE_URL``'s, created if missing)
and only on the PostgreSQL run of the suite; SQLite serialises writers and is the
development back-end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from surveys.cases import CaseInput, CitizenInput, store_case
from surveys.db import make_engine, make_session_factory
from surveys.dispatch import mark_lost_claims
from surveys.models import Case, CaseCategory, CitizenRole, Contact, SmsMessage, SmsSendStatus, Survey, Unit, UnitLevel
from surveys.planning import plan_due_cases
from surveys.schema import drop_everything, upgrade
from surveys.sending import CLAIM_LEASE
from surveys.settings import load_settings
from surveys.states import SurveyStatus

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not TEST_DATABASE_URL.startswith("postgresql"),
        reason="needs PostgreSQL row locks across processes; covered by the PostgreSQL run "
        "(TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/minyi_test pytest)",
    ),
]

WORKER = Path(__file__).with_name("worker.py")
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)  # 14:00 in Asia/Shanghai


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A dedicated, freshly migrated database next to the test database (``<name>_dispatch``)."""
    test_url = make_url(TEST_DATABASE_URL)
    name = f"{test_url.database}_dispatch"
    url = test_url.set(database=name)
    server = make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = make_engine(url)
    drop_everything(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


def seed(engine: Engine, count: int) -> None:
    """``count`` planned surveys due now, one per case and phone, committed."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE sms_messages, surveys, case_contacts, cases, contacts, units CASCADE"))
        unit_id = conn.execute(
            insert(Unit).values(code="330601", name="府山派出所", level=UnitLevel.STATION, path="/", created_at=NOW)
        ).inserted_primary_key[0]
        contact_ids = conn.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [{"phone_e164": f"+86138{n:08d}", "created_at": NOW} for n in range(count)],
        ).all()
        closed = NOW - dt.timedelta(hours=3)
        case_rows = [
            {"source": "t", "external_no": f"C{n}", "unit_id": unit_id, "category": CaseCategory.ALARM_110}
            | {"closed_at": closed, "is_sensitive": False, "is_planned": True, "created_at": NOW}
            for n in range(count)
        ]
        case_ids = conn.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), case_rows).all()
        due = NOW - dt.timedelta(minutes=5)
        conn.execute(
            insert(Survey),
            [
                {"case_id": case_id, "contact_id": contact_id, "citizen_role": "reporter", "token": f"tok{n:08d}"}
                | {"status": SurveyStatus.PLANNED, "due_at": due, "expires_at": NOW + dt.timedelta(days=7)}
                | {"attempts": 0, "planned_at": due}
                for n, (case_id, contact_id) in enumerate(zip(case_ids, contact_ids, strict=True))
            ],
        )


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path

    def sent_tokens(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    def report(self) -> dict[str, int]:
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return dict(json.loads(out.strip().splitlines()[-1]))


def start_workers(engine: Engine, tmp_path: Path, delays: list[float], batch: int) -> list[Worker]:
    go = tmp_path / "go"
    url = engine.url.render_as_string(hide_password=False)
    workers = []
    for index, delay in enumerate(delays):
        log = tmp_path / f"worker{index}.log"
        args = [sys.executable, str(WORKER), url, NOW.isoformat(), str(log), str(go), str(delay), str(batch)]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        workers.append(Worker(process, log))
    time.sleep(1.5)  # let every interpreter import and connect, then start them together
    go.touch()
    return workers


def statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(Survey.status, func.count()).group_by(Survey.status)).tuples().all()))


def sent_rows_per_survey(engine: Engine) -> dict[str, int]:
    """token → number of accepted sends recorded in sms_messages."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Survey.token, func.count(SmsMessage.id))
            .outerjoin(SmsMessage, (SmsMessage.survey_id == Survey.id) & (SmsMessage.send_status == SmsSendStatus.SENT))
            .group_by(Survey.token)
        )
        return dict(rows.tuples().all())


def test_four_scheduler_processes_send_each_of_2000_surveys_exactly_once(engine: Engine, tmp_path: Path):
    seed(engine, 2000)
    workers = start_workers(engine, tmp_path, delays=[0.0005] * 4, batch=50)
    reports = [worker.report() for worker in workers]

    assert sum(r["sent"] for r in reports) == 2000
    assert all(r["claimed"] > 0 for r in reports), reports  # the work was shared
    assert statuses(engine) == {"sent": 2000}
    assert set(sent_rows_per_survey(engine).values()) == {1}
    outside_world = Counter(token for worker in workers for token in worker.sent_tokens())
    assert len(outside_world) == 2000
    assert set(outside_world.values()) == {1}


def test_a_scheduler_killed_mid_batch_loses_nothing_and_sends_nothing_twice(engine: Engine, tmp_path: Path):
    seed(engine, 600)
    workers = start_workers(engine, tmp_path, delays=[0.02, 0.001, 0.001, 0.001], batch=50)
    victim = workers[0]
    deadline = time.monotonic() + 30
    while len(victim.sent_tokens()) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    victim.process.send_signal(signal.SIGKILL)  # mid-batch: it claimed 50 and sent a few
    victim.process.communicate(timeout=10)
    survivors = [worker.report() for worker in workers[1:]]

    stuck = statuses(engine)
    assert stuck[SurveyStatus.SENDING] > 0  # the victim's claim, waiting for its lease
    assert stuck[SurveyStatus.PLANNED] == 0  # everything else went out
    with make_session_factory(engine).begin() as session:
        assert mark_lost_claims(session, NOW + CLAIM_LEASE) == 0
        assert mark_lost_claims(session, NOW + CLAIM_LEASE + dt.timedelta(seconds=1)) == stuck[SurveyStatus.SENDING]

    final = statuses(engine)
    assert set(final) <= {SurveyStatus.SENT, SurveyStatus.UNKNOWN}  # none lost
    assert final[SurveyStatus.SENT] + final[SurveyStatus.UNKNOWN] == 600
    assert final[SurveyStatus.SENT] >= sum(r["sent"] for r in survivors)
    outside_world = Counter(token for worker in workers for token in worker.sent_tokens())
    assert max(outside_world.values()) == 1  # none sent twice
    rows = sent_rows_per_survey(engine)
    with engine.connect() as conn:
        by_status = dict(conn.execute(select(Survey.token, Survey.status)).tuples().all())
    for token, status in by_status.items():
        if status is SurveyStatus.SENT:
            assert (rows[token], outside_world[token]) == (1, 1), token
        else:  # unknown: the victim may or may not have sent it, and never recorded it
            assert rows[token] == 0, token


def test_planning_defers_a_case_whose_phone_another_process_holds(engine: Engine):
    seed(engine, 1)  # one sent-to-be survey for +8613800000000, and its unit
    sessions = make_session_factory(engine)
    settings = load_settings({"MINYI_DATABASE_URL": engine.url.render_as_string(hide_password=False)})
    with sessions.begin() as session:
        unit = session.scalars(select(Unit)).one()
        citizen = CitizenInput("+8613800000000", CitizenRole.REPORTER)
        closed_at = NOW - dt.timedelta(hours=3)
        store_case(session, CaseInput("t", "NEW", unit, CaseCategory.TRAFFIC, closed_at, None, False, (citizen,)))
    with engine.connect() as other_process:  # e.g. another scheduler planning this phone right now
        other_process.execute(text("SELECT id FROM contacts WHERE phone_e164 = '+8613800000000' FOR UPDATE"))
        with sessions.begin() as session:
            report = plan_due_cases(session, NOW, settings)
        assert (report.deferred, report.planned, report.skipped) == (1, 0, 0)  # no wait, no deadlock
        other_process.rollback()
    with sessions.begin() as session:
        report = plan_due_cases(session, NOW, settings)
    assert (report.deferred, report.skipped, dict(report.reasons)) == (0, 1, {"frequency_cap": 1})
