"""How the supervisors' and handlers' pages scale with the number of answers, on PostgreSQL.

    MINYI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/minyi_test .venv/bin/python bench/dashboard.py

Options: ``--sizes`` (100000,1000000): answers in the database at each measurement, in
increasing order; ``--repeats`` (5).

What it does, all on 127.0.0.1:

1. creates a scratch PostgreSQL database beside ``MINYI_DATABASE_URL``'s (dropped at the
   end), builds it with the migrations, and adds a city bureau (the city, 5 branches of 5
   stations), a city supervisor and a city handler through the services;
2. grows the data to each size with set-based ``INSERT … SELECT`` over ``generate_series``,
   cloning one answered survey written by the ORM (it stays, as one more answer) so every
   column is as the app writes it: each answer has its case, contact and survey; answers
   spread evenly over the last 365 days and the 25 stations; ratings 55/25/10/5/5 % from
   非常满意 down at every station; every third
   answer has a comment from the shipped police corpus (negative comments for low
   ratings), analysed with that row's labels; every rating of 2 or less has a ticket,
   closed after 14 days and open before, as a queue that is worked looks;
3. at each size, times the pages through the real app (``webapp.create_app()``, the
   Flask test client, logged in): one warm-up, then the median of ``--repeats``.

The data is the only thing that changes between the columns, so the ratio between them
is what the size costs. One process, no concurrency: these are the latencies one
supervisor sees, not a throughput.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scratch import scratch_database

ROOT = Path(__file__).resolve().parent.parent
# The project before this folder on sys.path: bench/nlp.py, named like the package it
# measures, would otherwise shadow ``nlp`` for every import of the project below.
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "nlp" / "resources" / "corpus" / "police_comments.csv"
PASSWORD = "bench-password-2026"  # noqa: S105  (the scratch database's accounts)
BRANCHES, STATIONS_PER_BRANCH = 5, 5
DAYS = 365
# A cloned survey was planned, sent, delivered, opened and answered at its answer's time.
SURVEY_MOMENTS = ("due_at", "planned_at", "sent_at", "delivered_at", "opened_at", "answered_at")
SENTIMENT_LABELS = {"neg": "negative", "neu": "neutral", "pos": "positive"}
# (name, who, path): the pages a supervisor and a handler open every day.
PAGES = (
    ("dashboard_30d", "supervisor", "/dashboard/"),
    ("dashboard_90d", "supervisor", "/dashboard/?days=90"),
    ("branch_30d", "supervisor", "/dashboard/?unit={branch}"),
    ("scorecard_xlsx", "supervisor", "/dashboard/export.xlsx"),
    ("bulletin_xlsx", "supervisor", "/dashboard/bulletin.xlsx"),
    ("queue", "handler", "/triage/"),
    ("queue_filtered", "handler", "/triage/?unit={branch}&overdue=y&q=B1"),
    ("queue_comment_search", "handler", "/triage/?q=%E6%B0%91%E8%AD%A6"),  # 民警: in many comments
    ("ticket_export_xlsx", "handler", "/triage/export.xlsx"),
)


def build_city(database_url: str) -> dict[str, Any]:
    """Units, two accounts and one answered, analysed survey with its ticket (the template)."""
    from sqlalchemy import select

    from surveys.accounts import create_user
    from surveys.db import make_engine, make_session_factory
    from surveys.models import (
        Analysis,
        Case,
        CaseCategory,
        CaseContact,
        CitizenRole,
        Contact,
        Response,
        Role,
        Survey,
        Ticket,
        TicketPriority,
        UnitLevel,
    )
    from surveys.models.responses import Channel
    from surveys.states import SurveyStatus, TicketStatus
    from surveys.units import create_unit

    now = dt.datetime.now(dt.UTC)
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        city = create_unit(session, "330600", "绍兴市公安局", UnitLevel.CITY)
        branches, stations = [], []
        for b in range(BRANCHES):
            branch = create_unit(session, f"3306{b + 1:02d}", f"第{b + 1}分局", UnitLevel.BRANCH, city)
            branches.append(branch.id)
            for s in range(STATIONS_PER_BRANCH):
                code = f"3306{b + 1:02d}{s + 1:02d}"
                stations.append(
                    create_unit(session, code, f"第{b + 1}分局{s + 1}号派出所", UnitLevel.STATION, branch).id
                )
        create_user(session, "supervisor", PASSWORD, Role.SUPERVISOR, city)
        create_user(session, "handler", PASSWORD, Role.HANDLER, city)
        case = Case(
            source="bench",
            external_no="T0",
            unit_id=stations[0],
            category=CaseCategory.ALARM_110,
            closed_at=now,
            is_planned=True,
        )
        contact = Contact(phone_e164="+8613000000000")
        session.add_all([case, contact])
        session.flush()
        session.add(CaseContact(case_id=case.id, contact_id=contact.id, role=CitizenRole.REPORTER))
        survey = Survey(
            case_id=case.id,
            contact_id=contact.id,
            citizen_role=CitizenRole.REPORTER,
            token="T0",  # noqa: S106  (not a secret: the template row's)
            status=SurveyStatus.ANSWERED,
            due_at=now,
            planned_at=now,
            sent_at=now,
            delivered_at=now,
            opened_at=now,
            answered_at=now,
            expires_at=now + dt.timedelta(days=7),
        )
        session.add(survey)
        session.flush()
        response = Response(
            survey_id=survey.id,
            unit_id=case.unit_id,
            overall=1,
            dimension_ratings={"call_attitude": 4, "dispatch_speed": 3},
            comment="模板",
            channel=Channel.WEB,
            submitted_at=now,
            is_analyzed=True,
        )
        session.add(response)
        session.flush()
        session.add(
            Analysis(
                response_id=response.id,
                sentiment_score=0.1,
                sentiment_label="negative",
                categories=["服务态度"],
                model_version="bench",
            )
        )
        session.add(
            Ticket(
                response_id=response.id,
                unit_id=stations[0],
                status=TicketStatus.CLOSED,
                priority=TicketPriority.NORMAL,
                category="服务态度",
                reasons=["非常不满意"],
                deadline_at=now,
            )
        )
        session.flush()
        template = {
            "cases": case.id,
            "contacts": contact.id,
            "case_contacts": session.scalars(select(CaseContact.id)).one(),
            "surveys": survey.id,
            "responses": response.id,
            "analyses": session.scalars(select(Analysis.id)).one(),
            "tickets": session.scalars(select(Ticket.id)).one(),
        }
    engine.dispose()
    return {"stations": stations, "branch": branches[0], "template": template}


def _load_comments(connection: Any) -> None:
    """The shipped police corpus as two numbered pools: negative comments and the others."""
    from sqlalchemy import text

    with CORPUS.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["text"].strip()]
    pools: dict[str, list[dict[str, Any]]] = {"neg": [], "other": []}
    for row in rows:
        pool_name = "neg" if row["sentiment"] == "neg" else "other"
        pool = pools[pool_name]
        category = (row["category"] or "其他").split("|")[0]
        pool.append(
            {"pool": pool_name, "k": len(pool), "text": row["text"], "category": category}
            | {"sentiment": SENTIMENT_LABELS[row["sentiment"]]}
        )
    connection.execute(text("CREATE TABLE bench_comments (pool text, k int, text text, sentiment text, category text)"))
    for pool in pools.values():
        connection.execute(text("INSERT INTO bench_comments VALUES (:pool, :k, :text, :sentiment, :category)"), pool)


def grow(database_url: str, city: dict[str, Any], first: int, last: int) -> float:
    """Add answers ``first``..``last`` (their ids) with everything around them; seconds taken."""
    from sqlalchemy import create_engine, text

    from surveys.models import Analysis, Case, CaseContact, Contact, Response, Survey, Ticket

    started = time.perf_counter()
    engine = create_engine(database_url)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # naive UTC, as UTCDateTime stores it
    with engine.begin() as connection:
        if not connection.execute(text("SELECT to_regclass('bench_comments')")).scalar():
            _load_comments(connection)
        counts = dict(connection.execute(text("SELECT pool, count(*) FROM bench_comments GROUP BY pool")).all())
        connection.execute(text("DROP TABLE IF EXISTS bench_plan"))
        connection.execute(
            text(
                """
                CREATE TABLE bench_plan AS
                WITH g AS (
                    SELECT g,
                           (CAST(:stations AS int[]))[1 + (g * 7) % cardinality(CAST(:stations AS int[]))] AS unit_id,
                           CAST(:now AS timestamp) - make_interval(secs => (g * 104729) % (:days * 86400)) AS at,
                           -- g / 25 steps once every station has had an answer: every
                           -- station gets the whole spread of ratings.
                           CASE WHEN (g / 25 * 7919) % 100 < 55 THEN 5 WHEN (g / 25 * 7919) % 100 < 80 THEN 4
                                WHEN (g / 25 * 7919) % 100 < 90 THEN 3 WHEN (g / 25 * 7919) % 100 < 95 THEN 2
                                ELSE 1 END AS overall
                    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
                )
                SELECT g.*, c.text AS comment, c.sentiment, c.category
                FROM g LEFT JOIN bench_comments c
                  ON g.g % 3 = 0
                 AND c.pool = CASE WHEN g.overall <= 2 THEN 'neg' ELSE 'other' END
                 AND c.k = (g.g / 3) % CASE WHEN g.overall <= 2 THEN :neg ELSE :other END
                """
            ),
            {
                "stations": city["stations"],
                "now": now,
                "days": DAYS,
                "first": first,
                "last": last,
                "neg": counts["neg"],
                "other": counts["other"],
            },
        )
        day = "interval '1 day'"
        clones = (
            (
                Case,
                "",
                {
                    "external_no": "'B' || p.g",
                    "unit_id": "p.unit_id",
                    "closed_at": f"p.at - {day}",
                    "created_at": f"p.at - {day}",
                },
            ),
            (Contact, "", {"phone_e164": "'+8613' || lpad(p.g::text, 9, '0')", "created_at": f"p.at - {day}"}),
            (CaseContact, "", {"case_id": "p.g", "contact_id": "p.g"}),
            (
                Survey,
                "",
                {
                    "case_id": "p.g",
                    "contact_id": "p.g",
                    "token": "substr(md5(p.g::text), 1, 16)",
                    **dict.fromkeys(SURVEY_MOMENTS, "p.at"),
                    "expires_at": "p.at + interval '7 days'",
                },
            ),
            (
                Response,
                "",
                {
                    "survey_id": "p.g",
                    "unit_id": "p.unit_id",
                    "overall": "p.overall",
                    "comment": "coalesce(p.comment, '')",
                    "submitted_at": "p.at",
                    "is_analyzed": "p.comment IS NOT NULL",
                },
            ),
            (
                Analysis,
                "AND p.comment IS NOT NULL",
                {
                    "response_id": "p.g",
                    "sentiment_label": "p.sentiment",
                    "categories": "json_build_array(p.category)",
                    "sentiment_score": "CASE p.sentiment WHEN 'negative' THEN 0.1 WHEN 'neutral' THEN 0.5 ELSE 0.9 END",
                    "created_at": "p.at",
                },
            ),
            (
                Ticket,
                "AND p.overall <= 2",
                {
                    "response_id": "p.g",
                    "unit_id": "p.unit_id",
                    "category": "p.category",
                    "reasons": "json_build_array(CASE p.overall WHEN 1 THEN '非常不满意' ELSE '不满意' END)",
                    "status": f"CASE WHEN p.at < CAST(:now AS timestamp) - 14 * {day} THEN 'closed' ELSE 'new' END",
                    "deadline_at": f"p.at + 3 * {day}",
                    "created_at": "p.at",
                    "updated_at": "p.at",
                    "closed_at": f"CASE WHEN p.at < CAST(:now AS timestamp) - 14 * {day} THEN p.at + 5 * {day} END",
                    "resolved_at": f"CASE WHEN p.at < CAST(:now AS timestamp) - 14 * {day} THEN p.at + 4 * {day} END",
                },
            ),
        )
        for model, condition, overrides in clones:
            table = model.__table__
            columns = [c.name for c in table.columns if c.name != "id"]
            values = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
            connection.execute(
                text(
                    f"INSERT INTO {table.name} (id, {', '.join(columns)}) "  # noqa: S608  (our own names)
                    f"SELECT p.g, {values} FROM bench_plan AS p, {table.name} AS t "
                    f"WHERE t.id = :template {condition}"
                ),
                {"template": city["template"][table.name], "now": now},
            )
        for model, _, _ in clones:
            name = model.__table__.name
            sequence = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"  # noqa: S608
            connection.execute(text(sequence))
        connection.execute(text("DROP TABLE bench_plan"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def time_pages(city: dict[str, Any], repeats: int) -> dict[str, float]:
    """Median milliseconds of each page, through the app, after one warm-up."""
    from webapp import create_app

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    clients = {}
    for who in ("supervisor", "handler"):
        client = app.test_client()
        login = client.post("/login", data={"username": who, "password": PASSWORD})
        if login.status_code != 302:
            raise SystemExit(f"could not log in as {who}: {login.status_code}")
        clients[who] = client
    figures = {}
    for name, who, path in PAGES:
        url = path.format(branch=city["branch"])
        samples = []
        for attempt in range(repeats + 1):
            started = time.perf_counter()
            page = clients[who].get(url)
            body = page.get_data()
            elapsed = time.perf_counter() - started
            if page.status_code != 200 or not body:
                raise SystemExit(f"{url}: {page.status_code}")
            if attempt:
                samples.append(elapsed * 1000)
        figures[name] = statistics.median(samples)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="answers at each measurement, increasing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if sizes != sorted(set(sizes)) or sizes[0] < 1:
        parser.error("--sizes must be increasing positive numbers")
    base_url = os.environ.get("MINYI_DATABASE_URL")
    if not base_url:
        parser.error("set MINYI_DATABASE_URL to a PostgreSQL database (a scratch one is made beside it)")

    results: dict[int, dict[str, float]] = {}
    with scratch_database(base_url) as database_url:
        os.environ["MINYI_DATABASE_URL"] = database_url
        city = build_city(database_url)
        done = 0
        for size in sizes:
            seconds = grow(database_url, city, done + 100, size + 99)  # ids clear of the template's
            done = size
            print(f"{size:>9} answers: data added in {seconds:.1f} s", file=sys.stderr)
            results[size] = time_pages(city, args.repeats)

    small, large = sizes[0], sizes[-1]
    print(f"median ms of {args.repeats} requests after a warm-up, one process, PostgreSQL; CPUs: {os.cpu_count()}")
    print(f"{'page':<20}" + "".join(f"{size:>12,}" for size in sizes) + f"{'× ' + format(small, ','):>14}")
    for name, _, _ in PAGES:
        row = "".join(f"{results[size][name]:>12.1f}" for size in sizes)
        print(f"{name:<20}{row}{results[large][name] / results[small][name]:>14.2f}")
    figures = " ".join(f"{name}_ms={results[large][name]:.1f}" for name, _, _ in PAGES)
    growth = results[large]["dashboard_30d"] / results[small]["dashboard_30d"]
    print(f"answers={large} {figures} dashboard_growth={growth:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
