"""The domain commands of ``minyi`` (import, scheduler, tick, demo, users, keys).

Each command is an edge: it builds the engine from settings, runs one transaction (or
one per row for imports) and prints the outcome. ``webapp.cli`` composes this group with
the web commands into the ``minyi`` console script.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from surveys.db import make_engine, make_session_factory, utcnow
from surveys.errors import MinyiError, ValidationError
from surveys.nlp_cli import nlp_cli
from surveys.settings import Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except MinyiError as exc:
        raise click.ClickException(str(exc)) from exc


def _engine(settings: Settings) -> Engine:
    """The engine for this command; creates the SQLite file's folder (``instance/``)."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


@click.group(name="minyi")
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def domain_cli(verbose: bool) -> None:
    """Minyi (民意) command line."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")


@domain_cli.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from surveys.schema import upgrade

    upgrade(_engine(_settings()))
    click.echo("schema is up to date")


@domain_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="import", show_default=True, help="Source system of the case numbers.")
def import_command(file: Path, source: str) -> None:
    """Import closed cases from a UTF-8 CSV or an .xlsx sheet (case_no, unit_code, category, closed_at, phone, …)."""
    from surveys.cases import import_case_rows, read_case_file

    settings = _settings()
    session_factory = make_session_factory(_engine(settings))
    try:
        with session_factory.begin() as session:
            report = import_case_rows(
                session,
                read_case_file(file.name, file.read_bytes()),
                source=source,
                now=utcnow(),
                tz=settings.timezone,
                region=settings.default_region,
            )
    except ValidationError as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from exc
    for error in report.errors:
        click.echo(f"第 {error.line} 行 {error.field}: {error.reason}", err=True)
    click.echo(f"imported={report.created} duplicates={report.duplicates} errors={len(report.errors)}")
    if report.errors:
        sys.exit(1)


@domain_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (plans, sends, analyses, expires) in the foreground."""
    from surveys.scheduler import main

    logging.getLogger().setLevel(logging.INFO)
    main()


@domain_cli.command("tick")
@click.option("--now", "now_text", help="Run as of this ISO time (default: the current time).")
def tick_command(now_text: str | None) -> None:
    """Run every scheduler job once and print what each did."""
    from surveys.jobs import run_all_jobs
    from surveys.scheduler import build_context

    now = dt.datetime.fromisoformat(now_text).astimezone(dt.UTC) if now_text else utcnow()
    for job_id, outcome in run_all_jobs(build_context(_settings()), now).items():
        click.echo(f"{job_id}: {outcome}")


@domain_cli.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units_command(file: Path) -> None:
    """Create the unit tree from a UTF-8 CSV: code, name, level (city/branch/station), parent_code, hotline."""
    from surveys.units import import_unit_rows

    try:
        with make_session_factory(_engine(_settings())).begin() as session:
            created = import_unit_rows(session, file.read_bytes())
    except ValidationError as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from exc
    click.echo(f"units created={created}")


@domain_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["handler", "supervisor", "admin"]), required=True)
@click.option("--unit", "unit_code", required=True, help="Code of the unit whose subtree the user sees.")
@click.option("--name", "display_name", help="Name shown in the app.")
@click.password_option()
def create_user_command(username: str, role: str, unit_code: str, display_name: str | None, password: str) -> None:
    """Create a staff account scoped to a unit subtree."""
    from surveys.accounts import create_user
    from surveys.models import Role
    from surveys.units import get_unit_by_code

    with make_session_factory(_engine(_settings())).begin() as session:
        unit = get_unit_by_code(session, unit_code)
        if unit is None:
            raise click.BadParameter(f"no unit with code {unit_code}", param_hint="--unit")
        try:
            create_user(session, username, password, Role(role), unit, display_name)
        except ValidationError as exc:
            raise click.ClickException(f"{exc.field}: {exc.reason}") from exc
    click.echo(f"user {username} created ({role}, {unit_code})")


@domain_cli.command("create-api-key")
@click.argument("name")
@click.option("--source", required=True, help="Source system whose case numbers the key pushes (e.g. jwxt).")
def create_api_key_command(name: str, source: str) -> None:
    """Create an API key for the case-management system; the key is shown once."""
    from surveys.accounts import create_api_key

    with make_session_factory(_engine(_settings())).begin() as session:
        _, plaintext = create_api_key(session, name, source=source)
    click.echo(plaintext)


@domain_cli.command("purge")
@click.option(
    "--days", default=365, show_default=True, help="Keep phone numbers of cases closed within this many days."
)
def purge_command(days: int) -> None:
    """Forget phone numbers past the retention period (cases and answers stay)."""
    from surveys.retention import purge_contacts, purge_suppressions

    if days < 30:
        raise click.BadParameter("retention under 30 days would cut off surveys still in progress", param_hint="--days")
    now = utcnow()
    with make_session_factory(_engine(_settings())).begin() as session:
        purged = purge_contacts(session, now, days)
        suppressions = purge_suppressions(session, now, days)
    click.echo(f"purged={purged} suppressions_deleted={suppressions}")


@domain_cli.command("drain")
def drain_command() -> None:
    """Send every survey that is due now, batch after batch (catching up after an outage)."""
    from surveys.jobs import drain_due_surveys
    from surveys.scheduler import build_context

    click.echo(drain_due_surveys(build_context(_settings())))


@domain_cli.command("demo")
@click.option("--reset", is_flag=True, help="Drop every table first.")
@click.option("--cases", default=2000, show_default=True, help="How many closed cases to generate.")
def demo_command(reset: bool, cases: int) -> None:
    """Build the schema and a realistic demo city bureau in the configured database."""
    from surveys.analysis import load_analyzer
    from surveys.demo import seed_demo
    from surveys.schema import drop_everything, upgrade

    settings = _settings()
    engine = _engine(settings)
    session_factory = make_session_factory(engine)
    if reset:
        drop_everything(engine)
    upgrade(engine)
    with session_factory.begin() as session:
        accounts, api_key = seed_demo(session, settings, load_analyzer(settings), utcnow(), case_count=cases)
    click.echo(f"demo data ready in {settings.database_url}")
    for account in accounts:
        click.echo(f"  login {account.username:<14} password {account.password}  ({account.role}, {account.unit_name})")
    click.echo(f"  API key for POST /api/v1/cases: {api_key}")
    click.echo(
        "  (demo: quiet hours are off so the fresh cases are texted at once; admin can change it at /admin/dispatch)"
    )


domain_cli.add_command(nlp_cli)
