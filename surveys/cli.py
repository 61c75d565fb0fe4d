"""The domain commands of ``minyi`` (import, scheduler, tick, demo, users, keys).

Each command is an edge: it builds the engine from settings, runs one transaction (or
one per row for imports) and prints the outcome. A command that changes data writes its
audit entry in that transaction. Bad input and bad settings end in a one-line click error
and a non-zero exit, never a traceback. ``webapp.cli`` composes this group with the web
commands into the ``minyi`` console script.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from surveys.audit import record_audit
from surveys.db import make_engine, make_session_factory, utcnow
from surveys.errors import MinyiError, ValidationError
from surveys.models import Role
from surveys.nlp_cli import nlp_cli
from surveys.settings import Settings, load_settings

if TYPE_CHECKING:
    from surveys.jobs import JobContext

#: The years ``tick --now`` accepts: the jobs compute days and weeks around it.
TICK_YEARS = (2000, 2100)


def cli_settings(*, needs_models: bool = False) -> Settings:
    """The settings, or a one-line click error naming the bad variable.

    ``needs_models``: the command analyses comments, so a ``MINYI_NLP_MODEL_DIR`` that is
    not a directory is refused before anything runs (otherwise the jobs before the
    analysis would commit and the analysis would then crash).
    """
    try:
        settings = load_settings()
    except MinyiError as exc:
        raise click.ClickException(str(exc)) from exc
    if needs_models and settings.nlp_model_dir and not Path(settings.nlp_model_dir).is_dir():
        raise click.ClickException(
            f"MINYI_NLP_MODEL_DIR={settings.nlp_model_dir!r} is not a directory (write one with `minyi nlp train`)"
        )
    return settings


def _engine(settings: Settings) -> Engine:
    """The engine for this command; creates the SQLite file's folder (``instance/``)."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


def _operator() -> str:
    """Who ran the command as the operating system knows them, else ``cli``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment and no passwd entry
        return "cli"


def _audit(
    session: Session, action: str, *, target_type: str | None = None, target_id: int | None = None, **detail: Any
) -> None:
    """Record a command's change: no staff account acts, so the OS user goes in the detail."""
    record_audit(
        session,
        actor_id=None,
        action=action,
        now=utcnow(),
        target_type=target_type,
        target_id=target_id,
        detail={"via": "cli", "os_user": _operator(), **detail},
    )


@contextlib.contextmanager
def _transaction(settings: Settings | None = None) -> Iterator[Session]:
    """The command's one transaction; a domain refusal rolls it back and becomes a click error."""
    try:
        with make_session_factory(_engine(settings or cli_settings())).begin() as session:
            yield session
    except ValidationError as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from exc


class DateTimeParam(click.ParamType[dt.datetime, Any]):
    """An ISO 8601 date-time; one without an offset is read in the deployment's time zone.

    The zone is applied by the command (:func:`in_zone`): settings are read only after
    the arguments parsed, so that a bad setting and a bad argument each get their message.
    """

    name = "datetime"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        """Parse ``value`` or fail with an example of what is expected."""
        if isinstance(value, dt.datetime):
            return value
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date-time such as 2026-11-20T14:00 or 2026-11-20T06:00Z", param, ctx)
        low, high = TICK_YEARS
        if not low <= moment.year <= high:
            self.fail(f"{value!r}: the year must be between {low} and {high}", param, ctx)
        return moment


def in_zone(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``moment`` in UTC; a naive one is a wall-clock time in ``tz`` (the deployment's zone)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)).astimezone(dt.UTC)


@click.group(name="minyi")
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def domain_cli(verbose: bool) -> None:
    """Minyi (民意) command line."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")


@domain_cli.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from surveys.schema import upgrade

    upgrade(_engine(cli_settings()))
    click.echo("schema is up to date")


@domain_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="import", show_default=True, help="Source system of the case numbers.")
def import_command(file: Path, source: str) -> None:
    """Import closed cases from a UTF-8 CSV or an .xlsx sheet (case_no, unit_code, category, closed_at, phone, …)."""
    from surveys.cases import import_case_rows, read_case_file

    settings = cli_settings()
    with _transaction(settings) as session:
        report = import_case_rows(
            session,
            read_case_file(file.name, file.read_bytes()),
            source=source,
            now=utcnow(),
            tz=settings.timezone,
            region=settings.default_region,
        )
        _audit(
            session,
            "cases.import",
            file=file.name,
            source=source,
            created=report.created,
            duplicates=report.duplicates,
            errors=len(report.errors),
        )
    for error in report.errors:
        click.echo(f"第 {error.line} 行 {error.field}: {error.reason}", err=True)
    click.echo(f"imported={report.created} duplicates={report.duplicates} errors={len(report.errors)}")
    if report.errors:
        sys.exit(1)


def _job_context(settings: Settings) -> JobContext:
    """The scheduler's context (engine, provider); a bad dispatch setting is a click error."""
    from surveys.scheduler import build_context

    try:
        return build_context(settings)
    except MinyiError as exc:
        raise click.ClickException(str(exc)) from exc


@domain_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (plans, sends, analyses, expires) in the foreground."""
    from surveys.scheduler import main

    _job_context(cli_settings(needs_models=True))  # refuse bad settings before starting
    logging.getLogger().setLevel(logging.INFO)
    main()


@domain_cli.command("tick")
@click.option(
    "--now",
    type=DateTimeParam(),
    help="Run as of this ISO time (default: the current time); without an offset, in MINYI_TIMEZONE.",
)
def tick_command(now: dt.datetime | None) -> None:
    """Run every scheduler job once and print what each did."""
    from surveys.jobs import run_all_jobs

    settings = cli_settings(needs_models=True)
    moment = in_zone(now, settings.timezone) if now else utcnow()
    for job_id, outcome in run_all_jobs(_job_context(settings), moment).items():
        click.echo(f"{job_id}: {outcome}")


@domain_cli.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units_command(file: Path) -> None:
    """Create the unit tree from a UTF-8 CSV: code, name, level (city/branch/station), parent_code, hotline.

    Only a city may lack a parent, and a unit hangs under a higher level (branch under
    city, station under branch or city); the first bad row aborts the whole file.
    """
    from surveys.units import import_unit_rows

    with _transaction() as session:
        created = import_unit_rows(session, file.read_bytes())
        _audit(session, "units.import", file=file.name, created=created)
    click.echo(f"units created={created}")


@domain_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--unit", "unit_code", required=True, help="Code of the unit whose subtree the user sees.")
@click.option("--name", "display_name", help="Name shown in the app.")
@click.password_option()
def create_user_command(username: str, role: str, unit_code: str, display_name: str | None, password: str) -> None:
    """Create a staff account scoped to a unit subtree."""
    from surveys.accounts import create_user
    from surveys.units import get_unit_by_code

    with _transaction() as session:
        unit = get_unit_by_code(session, unit_code)
        if unit is None:
            raise click.BadParameter(f"no unit with code {unit_code}", param_hint="--unit")
        user = create_user(session, username, password, Role(role), unit, display_name)
        _audit(session, "user.create", target_type="user", target_id=user.id, role=role, unit=unit_code)
    click.echo(f"user {username} created ({role}, {unit_code})")


@domain_cli.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username: str) -> None:
    """Disable a staff account and end its sessions at once (the last top-level admin stays)."""
    from surveys.accounts import deactivate_user, user_named

    with _transaction() as session:
        user = user_named(session, username)
        deactivate_user(session, user)
        _audit(session, "user.deactivate", target_type="user", target_id=user.id, username=username)
    click.echo(f"user {username} deactivated; their sessions have ended")


@domain_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([role.value for role in Role]))
def set_role_command(username: str, role: str) -> None:
    """Change a staff account's role (the last top-level admin cannot be demoted)."""
    from surveys.accounts import set_role, user_named

    with _transaction() as session:
        user = user_named(session, username)
        previous = set_role(session, user, Role(role))
        change = {"username": username, "old": previous, "new": role}
        _audit(session, "user.set_role", target_type="user", target_id=user.id, **change)
    click.echo(f"user {username}: {previous} -> {role}")


@domain_cli.command("create-api-key")
@click.argument("name")
@click.option("--source", required=True, help="Source system whose case numbers the key pushes (e.g. jwxt).")
def create_api_key_command(name: str, source: str) -> None:
    """Create an API key for the case-management system; the key is shown once."""
    from surveys.accounts import create_api_key

    with _transaction() as session:
        api_key, plaintext = create_api_key(session, name, source=source)
        described = {"name": api_key.name, "source": api_key.source, "prefix": api_key.prefix}
        _audit(session, "api_key.create", target_type="api_key", target_id=api_key.id, **described)
    click.echo(plaintext)


@domain_cli.command("revoke-api-key")
@click.argument("key")
def revoke_api_key_command(key: str) -> None:
    """Stop accepting an API key, named by its id or its prefix (``mk_`` and 7 more characters)."""
    from surveys.accounts import find_api_key, revoke_api_key

    with _transaction() as session:
        api_key = find_api_key(session, key)
        revoke_api_key(api_key, utcnow())
        described = {"name": api_key.name, "prefix": api_key.prefix}
        _audit(session, "api_key.revoke", target_type="api_key", target_id=api_key.id, **described)
    click.echo(f"API key {api_key.id} ({api_key.prefix}…, {api_key.name}) revoked")


@domain_cli.command("purge")
@click.option(
    "--days",
    default=365,
    show_default=True,
    type=int,
    help="Keep phone numbers of cases closed within this many days (30 to 36500).",
)
def purge_command(days: int) -> None:
    """Forget phone numbers past the retention period (cases and answers stay); see docs/operations.md."""
    from surveys.retention import check_retention_days, purge_contacts, purge_suppressions

    try:
        check_retention_days(days)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint="--days") from exc
    now = utcnow()
    with _transaction() as session:
        purged = purge_contacts(session, now, days)
        suppressions = purge_suppressions(session, now, days)
        _audit(session, "retention.purge", days=days, contacts=purged, suppressions=suppressions)
    click.echo(f"purged={purged} suppressions_deleted={suppressions}")


@domain_cli.command("drain")
def drain_command() -> None:
    """Send every survey that is due now, batch after batch (catching up after an outage)."""
    from surveys.jobs import drain_due_surveys

    click.echo(drain_due_surveys(_job_context(cli_settings())))


@domain_cli.command("demo")
@click.option("--reset", is_flag=True, help="Drop every table first (required when the database holds data).")
@click.option(
    "--cases",
    default=2000,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="How many closed cases to generate.",
)
def demo_command(reset: bool, cases: int) -> None:
    """Build the schema and a realistic demo city bureau in the configured database.

    Without ``--reset`` the database must be empty: the demo sets the deployment policy
    and adds accounts whose password it prints, which must never happen beside real data.
    """
    from surveys.analysis import load_analyzer
    from surveys.demo import DEMO_QUIET_HOURS, seed_demo, tables_with_rows
    from surveys.schema import drop_everything, upgrade

    settings = cli_settings(needs_models=True)
    engine = _engine(settings)
    if reset:
        drop_everything(engine)
    elif filled := tables_with_rows(engine):
        raise click.ClickException(
            f"the database already holds data ({', '.join(filled[:3])}{', …' if len(filled) > 3 else ''}): "
            "the demo would overwrite its dispatch policy and add accounts with a known password. "
            "Use an empty database, or `minyi demo --reset` to DROP EVERYTHING and start over."
        )
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        accounts, api_key = seed_demo(session, settings, load_analyzer(settings), utcnow(), case_count=cases)
    click.echo(f"demo data ready in {settings.database_url}")
    for account in accounts:
        click.echo(f"  login {account.username:<14} password {account.password}  ({account.role}, {account.unit_name})")
    click.echo(f"  API key for POST /api/v1/cases: {api_key}")
    start, end = DEMO_QUIET_HOURS
    click.echo(
        f"  (demo: quiet hours are only {start:%H:%M}–{end:%H:%M}, so the fresh cases are texted at once;"
        " admin can change it at /admin/dispatch)"
    )


domain_cli.add_command(nlp_cli)
