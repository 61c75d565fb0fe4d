"""Throughput and latency of the survey page under gunicorn, beside a bare Flask view.

    MINYI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/minyi_test .venv/bin/python bench/survey_page.py

Options: ``--requests`` per phase (4000), ``--concurrency`` (32), ``--workers`` (2 × CPUs + 1),
``--client-processes`` (1: 32 threads in one process), ``--rounds`` (3).

What it does, all on 127.0.0.1:

1. creates a scratch PostgreSQL database beside ``MINYI_DATABASE_URL``'s (dropped at the
   end), builds it with the migrations and seeds one sent survey per request to make;
2. starts two gunicorn servers with the same number of sync workers: the real app
   (``webapp.create_app()``, plus a do-nothing route that shows what every page of
   the app costs and one that only makes one round trip to PostgreSQL) and a bare Flask
   app whose one view returns a short string;
3. drives each with ``--concurrency`` simultaneous connections (threads of
   ``--client-processes`` processes, each request on its own ``http.client`` connection,
   as sync workers close them), a bounded number of requests, in interleaved rounds:
   the bare view, the app's do-nothing route, its round trip (``SELECT 1``, the least a
   page that reads the database pays), ``GET /s/<token>`` (every request a first
   opening, which writes ``opened``), ``POST /s/<token>`` (every request a new answer,
   answered with a 303) and ``GET /s/<token>/thanks`` (the thank-you page the browser
   is sent on to, a read: the citizen waits for the POST and this);
4. checks every response and that every accepted answer is in the database, prints
   requests/s, p50/p99 latency and the ratio to the bare view side by side, with the CPU
   each request cost the server, the database and the client (psutil), and ends with one
   machine-readable line.

The ratio is what to compare between machines: the client runs on the same host and takes
its share of the CPU from both servers alike. On a small or shared machine the ratios are
bounded by CPU, and the CPU columns say where it goes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
POST_BODY_TEMPLATE = (
    "qs=alarm_110.v1&overall={overall}&d_call_attitude=5&d_dispatch_speed=4&reason=slow_dispatch"
    "&comment=%E6%B0%91%E8%AD%A6%E5%BE%88%E8%80%90%E5%BF%83%F0%9F%91%8D"  # 民警很耐心👍
)


def bare_app() -> Any:
    """The baseline: Flask routing a request to a view that returns a short string."""
    from flask import Flask

    app = Flask("bare")

    @app.get("/")
    def bare() -> str:
        return "ok"

    return app


def app_with_bare_view() -> Any:
    """The real app, plus two routes that show the floors under the survey page.

    ``/_bench/bare`` does nothing: it runs the same app-wide hooks as the survey page
    (CSRF check, rate-limiter bookkeeping, security headers), so the survey page's ratio
    to it is the cost of the page itself; the ratio to :func:`bare_app` adds the cost of
    the app around it. ``/_bench/round-trip`` adds the one thing no survey page can do
    without, one statement to PostgreSQL (``SELECT 1`` on the driver's cursor of the
    citizen pages' autocommit connection, as :mod:`surveys.driver_statements` runs the
    page's statement): what is left between it and the survey page is the page's own work.
    """
    from webapp import create_app
    from webapp.citizen.connections import postgresql_connection

    def one_round_trip() -> str:
        """``SELECT 1`` on the driver's cursor of a pooled connection, as the survey page runs its statement."""
        with postgresql_connection() as connection:
            assert connection is not None  # noqa: S101  (the bench runs on PostgreSQL only)
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            finally:
                cursor.close()
        return "ok"

    app = create_app()
    app.add_url_rule("/_bench/bare", "bench_bare", lambda: "ok")
    app.add_url_rule("/_bench/round-trip", "bench_round_trip", one_round_trip)
    return app


# --- load generation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One request to make: method, path and form body (empty for GET)."""

    method: str
    path: str
    body: str = ""


@dataclass
class Result:
    """What came back: the status (0 for a connection error) and the latency."""

    status: int
    seconds: float
    path: str


def _request(port: int, job: Job) -> Result:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Connection": "close"}
        body = job.body.encode() if job.body else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(job.method, job.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return Result(status, time.perf_counter() - started, job.path)


def _run_slice(port: int, jobs: Sequence[Job], threads: int) -> list[Result]:
    """One client process: ``threads`` connections working through ``jobs``, each request once."""
    results: list[Result] = []
    lock = threading.Lock()
    queue = iter(jobs)

    def worker() -> None:
        local: list[Result] = []
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                break
            local.append(_request(port, job))
        with lock:
            results.extend(local)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _noop(_: int) -> None:
    return None


def drive(
    executor: ProcessPoolExecutor, processes: int, port: int, jobs: list[Job], concurrency: int
) -> tuple[list[Result], float]:
    """Run ``jobs`` with ``concurrency`` connections spread over ``processes`` client processes."""
    per_process = concurrency // processes
    slices = [jobs[i::processes] for i in range(processes)]
    started = time.perf_counter()
    futures = [executor.submit(_run_slice, port, part, per_process) for part in slices]
    results = [result for future in futures for result in future.result()]
    return results, time.perf_counter() - started


@dataclass(frozen=True)
class Figures:
    """One measured phase."""

    name: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def summarize(name: str, results: list[Result], elapsed: float, expected_status: int) -> Figures:
    latencies = sorted(r.seconds * 1000 for r in results)
    errors = sum(1 for r in results if r.status != expected_status)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Figures(name, len(results), errors, len(results) / elapsed, statistics.median(latencies), p99)


# --- servers and data -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running gunicorn: where it listens and its master's pid (for CPU accounting)."""

    port: int
    pid: int


@contextmanager
def gunicorn(app: str, workers: int, env: dict[str, str], extra: Sequence[str] = ()) -> Iterator[Server]:
    """A gunicorn with sync workers serving ``app`` on 127.0.0.1, once it answers."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--backlog",
        "256",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        *extra,
        app,
    ]
    process = subprocess.Popen(command, env=env)  # noqa: S603  (our own interpreter and arguments)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited with {process.returncode}")
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn {app} did not start listening")
        yield Server(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def seed_surveys(database_url: str, count: int) -> list[str]:
    """``count`` sent 110 surveys of one station, inserted in bulk; returns their tokens."""
    from sqlalchemy import insert

    from surveys.db import make_engine, make_session_factory
    from surveys.models import Case, CaseCategory, CaseContact, CitizenRole, Contact, Survey, Unit, UnitLevel
    from surveys.planning import new_token
    from surveys.states import SurveyStatus

    now = dt.datetime.now(dt.UTC)
    engine = make_engine(database_url)
    tokens = [new_token() for _ in range(count)]
    with make_session_factory(engine).begin() as session:
        unit = Unit(code="BENCH", name="压测派出所", level=UnitLevel.STATION, path="/", hotline="0575-1")
        session.add(unit)
        session.flush()
        case_ids = list(
            session.scalars(
                insert(Case).returning(Case.id, sort_by_parameter_order=True),
                [
                    {
                        "source": "bench",
                        "external_no": f"B{i:07d}",
                        "unit_id": unit.id,
                        "category": CaseCategory.ALARM_110,
                        "closed_at": now - dt.timedelta(hours=3),
                        "is_planned": True,
                        "created_at": now,
                    }
                    for i in range(count)
                ],
            )
        )
        contact_ids = list(
            session.scalars(
                insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
                [{"phone_e164": f"+86139{i:08d}", "created_at": now} for i in range(count)],
            )
        )
        session.execute(
            insert(CaseContact),
            [
                {"case_id": case_id, "contact_id": contact_id, "role": CitizenRole.REPORTER}
                for case_id, contact_id in zip(case_ids, contact_ids, strict=True)
            ],
        )
        session.execute(
            insert(Survey),
            [
                {
                    "case_id": case_id,
                    "contact_id": contact_id,
                    "citizen_role": CitizenRole.REPORTER,
                    "token": token,
                    "status": SurveyStatus.SENT,
                    "due_at": now - dt.timedelta(hours=1),
                    "planned_at": now - dt.timedelta(hours=2),
                    "sent_at": now - dt.timedelta(hours=1),
                    "expires_at": now + dt.timedelta(days=7),
                }
                for case_id, contact_id, token in zip(case_ids, contact_ids, tokens, strict=True)
            ],
        )
    engine.dispose()
    return tokens


def stored_answers(database_url: str, tokens: Sequence[str]) -> int:
    """How many of ``tokens`` have their response in the database."""
    from sqlalchemy import func, select

    from surveys.db import make_engine, make_session_factory
    from surveys.models import Response, Survey

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        stmt = select(func.count(Response.id)).join(Survey).where(Survey.token.in_(list(tokens)))
        count = session.scalar(stmt) or 0
    engine.dispose()
    return count


# --- CPU accounting -----------------------------------------------------------------------


def _cpu_seconds(pids: Sequence[int], with_children: bool) -> float:
    """User + system CPU of ``pids`` (and their children); 0 without psutil."""
    try:
        import psutil
    except ImportError:
        return 0.0
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            group = [process, *(process.children(recursive=True) if with_children else [])]
            for member in group:
                times = member.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _database_pids(database_url: str) -> list[int]:
    """The PostgreSQL backends serving the scratch database (the servers' pooled connections)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        pids = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars())
    engine.dispose()
    return pids


@dataclass
class CpuMeter:
    """CPU spent per phase by the server, the database and the client, whatever else runs."""

    server_pid: int
    client_pids: list[int]
    database_pids: list[int]

    def sample(self) -> tuple[float, float, float]:
        """CPU seconds so far: server processes, database backends, client processes."""
        return (
            _cpu_seconds([self.server_pid], with_children=True),
            _cpu_seconds(self.database_pids, with_children=False),
            _cpu_seconds(self.client_pids, with_children=False),
        )


def _phase(
    executor: ProcessPoolExecutor, args: argparse.Namespace, meter: CpuMeter, port: int, jobs: list[Job]
) -> tuple[list[Result], float, tuple[float, ...]]:
    before = meter.sample()
    results, elapsed = drive(executor, args.client_processes, port, jobs, args.concurrency)
    after = meter.sample()
    return results, elapsed, tuple((a - b) * 1000 / len(jobs) for a, b in zip(after, before, strict=True))


# --- the run ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per phase (bounded)")
    parser.add_argument("--concurrency", type=int, default=32, help="simultaneous connections")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--client-processes", type=int, default=1, help="processes the connections are spread over")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved bare/GET/POST rounds")
    args = parser.parse_args(argv)
    if args.concurrency % args.client_processes:
        parser.error("--concurrency must be a multiple of --client-processes")
    base_url = os.environ.get("MINYI_DATABASE_URL")
    if not base_url:
        parser.error("set MINYI_DATABASE_URL to a PostgreSQL URL (a scratch database is made beside it)")
    sys.path.insert(0, str(ROOT))
    from scratch import scratch_database  # here: gunicorn imports this module as bench.survey_page

    warmup = 2 * args.workers * 4
    per_round = args.requests // args.rounds

    with scratch_database(base_url) as database_url:
        tokens = seed_surveys(database_url, per_round * args.rounds + warmup)
        warm_tokens, tokens = tokens[:warmup], tokens[warmup:]
        env = {
            **os.environ,
            "MINYI_DATABASE_URL": database_url,
            "MINYI_SMS_PROVIDER": "console",
            "MINYI_SECRET_KEY": secrets.token_hex(16),
            # One client address makes every request: the per-client limits would stop the run.
            "MINYI_SURVEY_RATE_LIMIT": "1000000 per minute",
            "MINYI_SURVEY_MISS_RATE_LIMIT": "1000000 per minute",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        phase_names = ("bare", "floor", "round_trip", "get", "post", "thanks")
        results: dict[str, list[Result]] = {name: [] for name in phase_names}
        elapsed = dict.fromkeys(results, 0.0)
        cpu = {name: [0.0, 0.0, 0.0] for name in results}
        with (
            ProcessPoolExecutor(args.client_processes) as executor,
            # The bench directory as a namespace package, never put first on sys.path: its
            # other scripts (bench/nlp.py) would shadow the project's packages of that name.
            gunicorn("bench.survey_page:bare_app()", args.workers, env) as bare,
            gunicorn("bench.survey_page:app_with_bare_view()", args.workers, env) as app,
        ):
            list(executor.map(_noop, range(args.client_processes)))  # fork the clients before timing
            client_pids = [int(pid) for pid in getattr(executor, "_processes", {})]
            warm = [Job("GET", f"/s/{t}") for t in warm_tokens] + [
                Job("POST", f"/s/{t}", POST_BODY_TEMPLATE.format(overall=5)) for t in warm_tokens
            ]
            warmed = drive(executor, args.client_processes, bare.port, [Job("GET", "/")] * warmup, args.concurrency)[0]
            warmed += drive(executor, args.client_processes, app.port, warm, args.concurrency)[0]
            if failed := [r for r in warmed if r.status not in (200, 303)]:
                raise SystemExit(
                    f"warm-up failed: {len(failed)} of {len(warmed)} requests, e.g. status {failed[0].status}"
                )
            meters = {
                "bare": CpuMeter(bare.pid, client_pids, []),
                "app": CpuMeter(app.pid, client_pids, _database_pids(database_url)),
            }
            # Interleaved rounds, so a neighbour's burst of load hits every phase alike.
            for round_no in range(args.rounds):
                chunk = tokens[round_no * per_round : (round_no + 1) * per_round]
                phases = [
                    ("bare", meters["bare"], bare.port, [Job("GET", "/")] * per_round),
                    ("floor", meters["app"], app.port, [Job("GET", "/_bench/bare")] * per_round),
                    ("round_trip", meters["app"], app.port, [Job("GET", "/_bench/round-trip")] * per_round),
                    ("get", meters["app"], app.port, [Job("GET", f"/s/{t}") for t in chunk]),
                    (
                        "post",
                        meters["app"],
                        app.port,
                        [
                            Job("POST", f"/s/{t}", POST_BODY_TEMPLATE.format(overall=1 + i % 5))
                            for i, t in enumerate(chunk)
                        ],
                    ),
                    ("thanks", meters["app"], app.port, [Job("GET", f"/s/{t}/thanks") for t in chunk]),
                ]
                for name, meter, port, jobs in phases:
                    phase_results, phase_elapsed, phase_cpu = _phase(executor, args, meter, port, jobs)
                    results[name] += phase_results
                    elapsed[name] += phase_elapsed
                    cpu[name] = [total + part / args.rounds for total, part in zip(cpu[name], phase_cpu, strict=True)]

        accepted = {r.path.removeprefix("/s/") for r in results["post"] if r.status == 303}
        stored = stored_answers(database_url, sorted(accepted))

    figures = {
        "bare": summarize("bare Flask view", results["bare"], elapsed["bare"], 200),
        "floor": summarize("bare view in app", results["floor"], elapsed["floor"], 200),
        "round_trip": summarize("+ one SELECT 1", results["round_trip"], elapsed["round_trip"], 200),
        "get": summarize("GET /s/<token>", results["get"], elapsed["get"], 200),
        "post": summarize("POST /s/<token>", results["post"], elapsed["post"], 303),
        "thanks": summarize("GET …/thanks", results["thanks"], elapsed["thanks"], 200),
    }
    bare_f, get_f, post_f = figures["bare"], figures["get"], figures["post"]
    print(
        f"gunicorn sync workers: {args.workers}, connections: {args.concurrency} from "
        f"{args.client_processes} client process(es), {args.rounds} interleaved rounds, "
        f"{per_round * args.rounds} requests per phase, CPUs: {os.cpu_count()}"
    )
    header = f"{'':18}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× bare':>8}"
    print(header + "   CPU ms/request: server  database  client")
    for key, f in figures.items():
        server_ms, database_ms, client_ms = cpu[key]
        print(
            f"{f.name:18}{f.requests:>9}{f.errors:>8}{f.rps:>9.0f}{f.p50_ms:>9.1f}{f.p99_ms:>9.1f}"
            f"{f.rps / bare_f.rps:>8.2f}{server_ms:>24.2f}{database_ms:>10.2f}{client_ms:>8.2f}"
        )
    print(f"accepted answers: {len(accepted)}, in the database: {stored}")
    checks = {
        "GET ≥ 0.5× bare": get_f.rps >= 0.5 * bare_f.rps,
        "POST ≥ 0.10× bare": post_f.rps >= 0.10 * bare_f.rps,
        "p99 < 150 ms": max(get_f.p99_ms, post_f.p99_ms, figures["thanks"].p99_ms) < 150,
        "no errors": not any(f.errors for f in figures.values()),
        "every accepted answer stored": stored == len(accepted) == per_round * args.rounds,
    }
    print("targets: " + ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks.items()))
    print(
        f"bare_rps={bare_f.rps:.0f} get_rps={get_f.rps:.0f} post_rps={post_f.rps:.0f} "
        f"get_p99_ms={get_f.p99_ms:.1f} post_p99_ms={post_f.p99_ms:.1f}"
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
