"""The ``minyi`` console script: the domain commands plus the development web server."""

from __future__ import annotations

import os

import click

from surveys.cli import cli_settings, domain_cli
from surveys.errors import MinyiError
from surveys.schema import upgrade


@domain_cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve the web app only.")
def run_command(host: str, port: int, no_scheduler: bool) -> None:
    """Development: migrate, then serve the web app with the scheduler in a background thread.

    The scheduler runs in this process only when it is not the reloader's parent (no
    reloader is used here), and never under gunicorn, which imports ``create_app``.
    """
    from surveys.db import make_engine
    from surveys.scheduler import start_background
    from webapp import create_app

    os.environ.setdefault("MINYI_PUBLIC_BASE_URL", f"http://{host}:{port}")
    settings = cli_settings(needs_models=not no_scheduler)
    upgrade(make_engine(settings.database_url))
    try:
        app = create_app({"MINYI_SETTINGS": settings})
        if not no_scheduler:
            start_background(settings)
    except MinyiError as exc:  # a bad web or dispatch setting: one line, like every command
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Minyi is running at http://{host}:{port}  (SMS outbox: http://{host}:{port}/dev/outbox)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


def main() -> None:
    """Entry point of the ``minyi`` console script."""
    domain_cli()
