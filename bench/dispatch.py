"""Dispatch throughput: surveys per second with 1, 2 and 4 scheduler processes, and through the Twilio mock.

    MINYI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/minyi_test .venv/bin/python bench/dispatch.py

Options: ``--surveys`` per console run (2000), ``--twilio-surveys`` (1000), ``--twilio-processes`` (4).

What it does, all on 127.0.0.1:

1. creates a scratch PostgreSQL database beside ``MINYI_DATABASE_URL``'s (dropped at the
   end) and builds it with the migrations;
2. for each run, stores closed cases through the intake service and plans them with
   ``plan_due_cases`` (one due survey per case), exactly as production does;
3. starts N worker processes (this script with ``--worker``), each running the real
   ``surveys.jobs.drain_due_surveys`` (claim with ``FOR UPDATE SKIP LOCKED`` → send →
   record, batch after batch) with the console provider, or with the Twilio provider
   through the official client against the Prism mock (``../shared/tools/twilio-mock``);
   they wait on a file so that all start together, and the clock runs from that moment
   until the last one exits;
4. checks that every survey is ``sent`` with exactly one accepted send recorded, prints
   the figures and ends with one machine-readable line.

Each result is committed on its own (at-most-once: a crash may lose the record of one
send, never repeat it), so the figures are bounded by commit latency and round trips to
PostgreSQL, and the processes share the host's CPUs with the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratch import scratch_database
from sqlalchemy import Engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
# The project before this folder on sys.path: bench/nlp.py, named like the package it
# measures, would otherwise shadow ``nlp`` for every import of the project below.
sys.path.insert(0, str(ROOT))
MOCK_DIR = ROOT.parent / "shared" / "tools" / "twilio-mock"
MOCK_URL = os.environ.get("TWILIO_MOCK_URL", "http://127.0.0.1:4010")
#: A working-day afternoon in Asia/Shanghai, outside quiet hours; every run uses it as "now".
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
ACCOUNT_SID = "AC" + "0" * 32


def seed(engine: Engine, count: int, run: str) -> None:
    """``count`` closed cases through intake, planned into due surveys by the planning service."""
    from surveys.cases import CaseInput, CitizenInput, store_case
    from surveys.db import make_session_factory
    from surveys.models import CaseCategory, CitizenRole, Unit, UnitLevel
    from surveys.planning import plan_due_cases
    from surveys.settings import load_settings
    from surveys.units import create_unit

    settings = load_settings({"MINYI_DATABASE_URL": engine.url.render_as_string(hide_password=False)})
    with make_session_factory(engine).begin() as session:
        session.execute(text("TRUNCATE sms_messages, surveys, case_contacts, cases, contacts CASCADE"))
        unit = session.scalars(select(Unit).where(Unit.code == "330601")).one_or_none()
        unit = unit or create_unit(session, "330601", "府山派出所", UnitLevel.STATION)
        closed_at = NOW - dt.timedelta(hours=3)
        for n in range(count):
            citizen = CitizenInput(f"+86139{n:08d}", CitizenRole.REPORTER)
            case = CaseInput(run, f"J{n:07d}", unit, CaseCategory.ALARM_110, closed_at, "王警官", False, (citizen,))
            store_case(session, case)
        report = plan_due_cases(session, NOW, settings, limit=count)
    if report.planned != count:
        sys.exit(f"seeding planned {report.planned} of {count} surveys: {report}")


def check(engine: Engine, count: int) -> None:
    """Every survey sent, with exactly one accepted send recorded."""
    from surveys.models import SmsMessage, SmsSendStatus, Survey
    from surveys.states import SurveyStatus

    accepted = SmsMessage.send_status == SmsSendStatus.SENT
    with engine.connect() as conn:
        sent = conn.scalar(select(func.count()).select_from(Survey).where(Survey.status == SurveyStatus.SENT))
        surveys = conn.scalar(select(func.count(func.distinct(SmsMessage.survey_id))).where(accepted))
        sends = conn.scalar(select(func.count()).select_from(SmsMessage).where(accepted))
    if not sent == surveys == sends == count:
        sys.exit(f"expected {count} surveys sent once each: {sent} sent, {sends} sends to {surveys} surveys")


def run(engine: Engine, provider: str, processes: int, count: int, workdir: Path) -> float:
    """Surveys per second of ``processes`` workers draining ``count`` due surveys."""
    seed(engine, count, f"{provider}{processes}")
    go = workdir / f"go-{provider}-{processes}"
    env = os.environ | {"MINYI_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    command = [sys.executable, __file__, "--worker", provider, "--go", str(go)]
    workers = [subprocess.Popen(command, env=env) for _ in range(processes)]  # noqa: S603
    time.sleep(2.0)  # imports and connections, before the clock starts
    started = time.perf_counter()
    go.touch()
    codes = [worker.wait(timeout=600) for worker in workers]
    elapsed = time.perf_counter() - started
    if codes != [0] * processes:
        sys.exit(f"a worker failed: exit codes {codes}")
    check(engine, count)
    rate = count / elapsed
    print(f"{provider:8} {processes} process(es): {count} surveys in {elapsed:6.2f} s = {rate:7.1f} surveys/s")
    return rate


def worker(provider_name: str, go: Path) -> None:
    """One scheduler process: wait for the start signal, then drain due surveys."""
    from surveys.db import make_engine, make_session_factory
    from surveys.dispatch_settings import DispatchSettings
    from surveys.jobs import JobContext, drain_due_surveys
    from surveys.settings import load_settings
    from surveys.sms.base import SmsProvider
    from surveys.sms.console import ConsoleSmsProvider

    settings = load_settings()
    provider: SmsProvider = ConsoleSmsProvider()
    if provider_name == "twilio":
        from surveys.sms.twilio import TwilioSmsProvider

        sys.path.insert(0, str(MOCK_DIR))
        from twilio_mock_client import MockTwilioHttpClient  # type: ignore[import-not-found]

        client = MockTwilioHttpClient(MOCK_URL)
        provider = TwilioSmsProvider(ACCOUNT_SID, "bench", from_number="+15005550006", http_client=client)
    engine = make_engine(settings.database_url, pool_size=2)
    ctx = JobContext(make_session_factory(engine), provider, settings, dispatch_settings=DispatchSettings())
    while not go.exists():
        time.sleep(0.002)
    drain_due_surveys(ctx, NOW)


def ensure_twilio_mock() -> None:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(MOCK_URL, timeout=1)  # noqa: S310  (fixed local URL)
    except urllib.error.HTTPError:
        return  # Prism answers 404 on "/": it is up
    except OSError:
        subprocess.run([str(MOCK_DIR / "start-mock")], check=True, capture_output=True, timeout=300)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surveys", type=int, default=2000)
    parser.add_argument("--twilio-surveys", type=int, default=1000)
    parser.add_argument("--twilio-processes", type=int, default=4)
    parser.add_argument("--worker", choices=["console", "twilio"], help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.go)
        return
    from surveys.db import make_engine

    ensure_twilio_mock()
    workdir = Path(tempfile.mkdtemp(prefix="minyi-bench-dispatch-"))
    with scratch_database(os.environ.get("MINYI_DATABASE_URL", "")) as database_url:
        engine = make_engine(database_url)
        try:
            figures = {f"console_{n}": run(engine, "console", n, args.surveys, workdir) for n in (1, 2, 4)}
            figures["twilio_mock"] = run(engine, "twilio", args.twilio_processes, args.twilio_surveys, workdir)
        finally:
            engine.dispose()
    print(
        f"host: {os.cpu_count()} CPUs, PostgreSQL on the same host; twilio_mock uses {args.twilio_processes} processes"
    )
    print(" ".join(f"{name}={rate:.0f}" for name, rate in figures.items()))


if __name__ == "__main__":
    main()
