"""``minyi nlp …``: train, evaluate and try the comment analysis from the command line.

The group is mounted by the ``minyi`` console script; it only parses options, calls
``nlp.models`` and prints. Heavy imports happen inside the commands so that
``minyi --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from nlp.analysis import Analyzer, CommentAnalysis
    from nlp.linear import LinearTextModel
    from nlp.models.datasets import LabelledRow
    from nlp.models.evaluation import Report

TASK_CHOICE = click.Choice(["sentiment", "category", "urgency"])


def _quiet_jieba() -> None:
    """Silence jieba: it logs its dictionary loading at DEBUG to stderr; a CLI run needs none of it."""
    logging.getLogger("jieba").setLevel(logging.WARNING)


@contextmanager
def _one_line_errors(context: str = "") -> Iterator[None]:
    """Report bad input (a label, a split, a lone class, a broken model file) in one line.

    These are the user's data, not our bugs: a traceback would bury the file, line or
    label that the message names. ``context`` prefixes the message.
    """
    try:
        yield
    except (ValueError, FileNotFoundError) as error:  # a missing --model directory too
        raise click.ClickException(f"{context}{error}") from error


@click.group("nlp")
def nlp_group() -> None:
    """Chinese comment analysis: train and evaluate the models, analyse a comment."""


@nlp_group.command("analyze")
@click.argument("texts", nargs=-1, required=True)
@click.option("--model", "model_dir", default=None, help="Model directory (default: the shipped model).")
def analyze_command(texts: Sequence[str], model_dir: str | None) -> None:
    """Print the analysis of each TEXT as one JSON line."""
    _quiet_jieba()
    from nlp.analysis import Analyzer

    with _one_line_errors():
        analyzer = Analyzer.load(_model_path(model_dir))
    for text in texts:
        result = analyzer.analyze(text)
        payload = {
            "text": text,
            "sentiment_score": result.sentiment_score,
            "sentiment_label": result.sentiment_label,
            "categories": list(result.categories),
            "urgency_flags": [{"kind": f.kind, "label": f.label, "evidence": f.evidence} for f in result.urgency_flags],
            "keywords": list(result.keywords),
            "model_version": result.model_version,
        }
        click.echo(json.dumps(payload, ensure_ascii=False))


def _model_path(model_dir: str | None) -> Path | None:
    return None if model_dir in (None, "default") else Path(str(model_dir))


@nlp_group.command("train")
@click.option("--task", type=TASK_CHOICE, required=True)
@click.option(
    "--csv",
    "csv_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled CSV (columns text + label, or text + the task's column); repeatable.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--base/--no-base",
    default=True,
    show_default=True,
    help="Add the shipped base data (police corpus train part, lexicon, seeds, urgency probe sets).",
)
@click.option("--version", "version", default=None, help="Model version (default: date + content hash).")
def train_command(task: str, csv_files: Sequence[Path], out_dir: Path, base: bool, version: str | None) -> None:
    """Train a model and write it to a versioned model directory."""
    _quiet_jieba()
    from nlp.models.datasets import read_labelled_csv
    from nlp.models.training import train_model

    rows: list[LabelledRow] = []
    with _one_line_errors():
        for path in csv_files:
            rows.extend(read_labelled_csv(path, task).rows)
    if not rows and not base:
        raise click.UsageError("nothing to train on: give --csv files or keep --base")
    with _one_line_errors(f"cannot train {task}: "):
        model = train_model(task, rows, out_dir, base=base, version=version, progress=True)
    click.echo(f"{task} model {model.version}: {model.n_features} features, classes {', '.join(model.classes)}")
    click.echo(rows_used(model))
    click.echo(f"written to {out_dir}")


def rows_used(model: LinearTextModel) -> str:
    """One line of how many rows of each source a model was trained on (its metadata)."""
    sources = model.metadata.get("sources") or {}
    counts = " ".join(f"{source}={count}" for source, count in sources.items())
    return f"rows used: {sum(sources.values())} ({counts})"


@nlp_group.command("evaluate")
@click.option("--task", type=TASK_CHOICE, required=True)
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--split",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=None,
    help="Hold out this fraction (stratified); without --model, train on the rest.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--model",
    "model_dir",
    default=None,
    help="Evaluate this model directory ('default' = shipped) instead of training.",
)
@click.option(
    "--base/--no-base",
    default=False,
    show_default=True,
    help="When training on the split, also add the shipped base data.",
)
@click.option(
    "--snownlp/--no-snownlp",
    "with_snownlp",
    default=True,
    show_default=True,
    help="Sentiment only: report SnowNLP on the same rows.",
)
@click.option(
    "--show-misses/--hide-misses",
    default=True,
    show_default=True,
    help="Urgency only: list the urgent rows missed (hide them to keep a blind set blind).",
)
def evaluate_command(
    task: str,
    data: Path,
    split: float | None,
    seed: int,
    model_dir: str | None,
    base: bool,
    with_snownlp: bool,
    show_misses: bool,
) -> None:
    """Print per-class figures and the confusion matrix for DATA.csv.

    The last line is ``accuracy=… macro_f1=…`` (urgency adds ``recall=…``).
    """
    _quiet_jieba()
    from nlp.models.datasets import read_labelled_csv, split_rows

    with _one_line_errors():
        table = read_labelled_csv(data, task)
    train_rows: list[LabelledRow] = []
    test_rows = table.rows
    if split is not None:
        with _one_line_errors(f"cannot split {data}: "):
            train_rows, test_rows = split_rows(table, split, seed)
    if split is not None and model_dir is None:
        with _one_line_errors(f"cannot train {task}: "):
            analyzer = _train_for_evaluation(task, train_rows, base)
        click.echo(f"trained on {len(train_rows)} rows, evaluating on {len(test_rows)}")
    else:
        from nlp.analysis import Analyzer

        with _one_line_errors():
            analyzer = Analyzer.load(_model_path(model_dir))
            if task == "category":
                _check_categories(data, test_rows, analyzer.taxonomy.names)
        click.echo(f"model {analyzer.model_version}, evaluating on {len(test_rows)} rows")
    texts = [text for text, _ in test_rows]
    gold = [label for _, label in test_rows]
    analyses = _analyze_with_progress(analyzer, texts)
    final = _REPORTERS[task](texts, gold, analyses, _ReportOptions(with_snownlp, show_misses))
    click.echo(final)


def _check_categories(data: Path, rows: Sequence[LabelledRow], names: Sequence[str]) -> None:
    """Refuse gold labels the model's taxonomy cannot output (they would score 0, not fail).

    Training on a split builds a taxonomy of a foreign label set instead; a trained
    model only ever reports its own categories, so such a file is the wrong file.
    """
    known = set(names)
    for text, label in rows:
        unknown = [name for name in label.split("|") if name not in known]
        if unknown:
            raise ValueError(
                f"{data}: label {label!r} ({text[:20]!r}) names no category of the model's taxonomy"
                f" ({', '.join(names)})"
            )


def _train_for_evaluation(task: str, rows: list[LabelledRow], base: bool) -> Analyzer:
    """An analyzer with ``task``'s model trained on ``rows`` (the urgency rules screen as always)."""
    from nlp.analysis import Analyzer
    from nlp.models.training import train_category, train_sentiment, train_urgency
    from nlp.taxonomy import Category, Taxonomy, default_taxonomy

    if task == "sentiment":
        return Analyzer(sentiment_model=train_sentiment(rows, base=base, progress=True))
    if task == "urgency":
        return Analyzer(urgency_model=train_urgency(rows, base=base, progress=True))
    names = sorted({name for _, label in rows for name in label.split("|")})
    taxonomy = default_taxonomy()
    if not set(names) <= set(taxonomy.names):
        # A foreign label set (e.g. government-message categories): a taxonomy of its
        # own names, no seeds, so only the learned model decides.
        taxonomy = Taxonomy(
            categories=tuple(Category(name, "", ()) for name in names),
            fallback=names[0],
            version="evaluation",
        )
    model = train_category(rows, base=base, taxonomy=taxonomy, progress=True)
    return Analyzer(category_model=model, taxonomy=taxonomy)


def _analyze_with_progress(analyzer: Analyzer, texts: Sequence[str]) -> list[CommentAnalysis]:
    from tqdm import tqdm

    return [analyzer.analyze(text) for text in tqdm(texts, desc="analyse", unit="text", leave=False)]


def _echo_report(report: Report) -> None:
    click.echo(report.format())
    click.echo("")


@dataclass(frozen=True)
class _ReportOptions:
    with_snownlp: bool
    show_misses: bool


def _report_sentiment(
    texts: Sequence[str], gold: Sequence[str], analyses: Sequence[CommentAnalysis], options: _ReportOptions
) -> str:
    from nlp.models.evaluation import (
        SENTIMENT_ORDER,
        sentiment_label,
        single_label_report,
        snownlp_predictor,
    )

    binary = set(gold) <= {"pos", "neg"}
    labels = [label for label in SENTIMENT_ORDER if not (binary and label == "neu")]
    predicted = [sentiment_label(a.sentiment_label, a.sentiment_score, binary=binary) for a in analyses]
    report = single_label_report("minyi", gold, predicted, labels)
    _echo_report(report)
    if options.with_snownlp:
        baseline = snownlp_predictor(binary=binary)
        snownlp_report = single_label_report("snownlp", gold, [baseline(text) for text in texts], labels)
        _echo_report(snownlp_report)
        click.echo(f"snownlp_accuracy={snownlp_report.accuracy:.4f} snownlp_macro_f1={snownlp_report.macro_f1:.4f}")
    return f"accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f}"


def _report_category(
    texts: Sequence[str], gold: Sequence[str], analyses: Sequence[CommentAnalysis], options: _ReportOptions
) -> str:
    from nlp.models.evaluation import multi_label_report

    del texts, options
    report = multi_label_report("minyi", [label.split("|") for label in gold], [list(a.categories) for a in analyses])
    _echo_report(report)
    main_hits = sum(
        1 for label, a in zip(gold, analyses, strict=True) if a.categories and a.categories[0] in label.split("|")
    )
    top1 = main_hits / len(gold)
    # Two accuracies: ``accuracy`` counts a comment right only when the predicted set equals
    # the gold set (exact set); ``top1_accuracy`` when the predicted main category is one of
    # the gold categories (``main_category_in_gold``, the older name, is the same figure).
    click.echo(f"main_category_in_gold={top1:.4f}")
    click.echo(f"exact_set_accuracy={report.accuracy:.4f} top1_accuracy={top1:.4f}")
    return f"accuracy={report.accuracy:.4f} top1_accuracy={top1:.4f} macro_f1={report.macro_f1:.4f}"


def _report_urgency(
    texts: Sequence[str], gold: Sequence[str], analyses: Sequence[CommentAnalysis], options: _ReportOptions
) -> str:
    from nlp.models.evaluation import single_label_report

    gold = ["0" if label == "0" else "1" for label in gold]  # a kind name is urgent
    predicted = ["1" if a.is_urgent else "0" for a in analyses]
    report = single_label_report("minyi", gold, predicted, ["0", "1"])
    _echo_report(report)
    if options.show_misses:
        missed = [text for text, g, p in zip(texts, gold, predicted, strict=True) if g == "1" and p == "0"]
        for text in missed[:20]:
            click.echo(f"missed urgent: {text}", err=True)
    recall = report.figures("1").recall
    return f"accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f} recall={recall:.4f}"


_REPORTERS = {
    "sentiment": _report_sentiment,
    "category": _report_category,
    "urgency": _report_urgency,
}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the group on its own (``python -m nlp.cli``), for development."""
    nlp_group.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="nlp")


if __name__ == "__main__":
    main()
