"""A linear text model stored as plain data and evaluated without scikit-learn.

Models are trained with scikit-learn but shipped as a JSON header (task, classes,
version, feature configuration) beside an ``.npz`` of arrays (terms, IDF weights,
coefficients). Unlike a pickle this is safe to load, diffable in its header, readable by
any future scikit-learn or none, and it avoids the per-call overhead of sklearn's
vectorisers, which matters for thousands of comments per second.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from nlp.features import BLOCK_ORDER, LEXICON_BLOCK, SPARSE_BLOCKS, FeatureConfig, Features

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FORMAT = "minyi-linear/1"


@dataclass
class LinearTextModel:
    """Multinomial, binary or one-vs-rest (multi-label) linear model over feature blocks.

    ``coef`` has one row per class (binary models: one row, for ``classes[1]``); feature
    columns are laid out block by block as listed in ``terms``.
    """

    task: str
    version: str
    classes: tuple[str, ...]
    multilabel: bool
    config: FeatureConfig
    terms: dict[str, list[str]]
    idf: dict[str, npt.NDArray[np.float64]]
    coef: npt.NDArray[np.float64]
    intercept: npt.NDArray[np.float64]
    metadata: dict[str, Any] = field(default_factory=dict)
    # Scores features given as blocks (built on first use; the analyzer scores its models
    # through one vocabulary of their own instead).
    _own: SharedVocabulary | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the coefficient width against the terms."""
        width = sum(len(self.terms.get(block, [])) for block in BLOCK_ORDER)
        if self.coef.shape[1] != width:
            raise ValueError(f"coefficient width {self.coef.shape[1]} != feature count {width}")

    @property
    def n_features(self) -> int:
        """Total number of feature columns."""
        return int(self.coef.shape[1])

    def decision(self, features: ModelInput) -> list[float]:
        """Raw linear scores, one per coefficient row."""
        if not isinstance(features, JointDecisions):
            if self._own is None:
                self._own = SharedVocabulary([self])
            features = self._own.decide(features)
        return features.of(self)

    def predict_proba(self, features: ModelInput) -> dict[str, float]:
        """Class probabilities (multi-label: independent per class, not summing to 1)."""
        scores = self.decision(features)
        if self.multilabel:
            return {c: _sigmoid(s) for c, s in zip(self.classes, scores, strict=True)}
        if len(scores) == 1:
            p = _sigmoid(scores[0])
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def save(self, path: str | Path) -> None:
        """Write ``<name>.json`` (header) and ``<name>.npz`` (arrays) side by side."""
        import numpy as np

        path = Path(path)
        header = {
            "format": FORMAT,
            "task": self.task,
            "version": self.version,
            "classes": list(self.classes),
            "multilabel": self.multilabel,
            "features": self.config.to_json(),
            "blocks": {block: len(terms) for block, terms in self.terms.items()},
            "metadata": self.metadata,
        }
        path.with_suffix(".json").write_text(json.dumps(header, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        arrays: dict[str, Any] = {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        for block, terms in self.terms.items():
            arrays[f"terms_{block}"] = np.array(terms, dtype=np.str_)
            if block in self.idf:
                arrays[f"idf_{block}"] = self.idf[block].astype(np.float32)
        with path.with_suffix(".npz").open("wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LinearTextModel:
        """Read a model written by :meth:`save` (``path`` may name either file)."""
        import numpy as np

        path = Path(path)
        header = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if header.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model")
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            terms = {block: [str(t) for t in arrays[f"terms_{block}"].tolist()] for block in header["blocks"]}
            idf = {
                block: arrays[f"idf_{block}"].astype(np.float64)
                for block in header["blocks"]
                if f"idf_{block}" in arrays
            }
            coef = arrays["coef"].astype(np.float64)
            intercept = arrays["intercept"].astype(np.float64)
        return cls(
            task=str(header["task"]),
            version=str(header["version"]),
            classes=tuple(str(c) for c in header["classes"]),
            multilabel=bool(header["multilabel"]),
            config=FeatureConfig.from_json(header["features"]),
            terms=terms,
            idf=idf,
            coef=coef,
            intercept=intercept,
            metadata=dict(header.get("metadata", {})),
        )


class SharedVocabulary:
    """Several models over the same features, scored together.

    Every comment goes through up to three linear models (sentiment, category, urgency)
    whose vocabularies overlap almost entirely. Scoring them one by one looks every
    n-gram up three times in Python, the analysis path's largest cost. Here each n-gram
    is looked up once in the union of the vocabularies, and all models' decision values
    come from one product per block, with each model's IDF folded into its columns and
    its per-block L2 norm taken over its own terms only, so each model's values are
    those it gives alone (:meth:`LinearTextModel.decision` scores through a vocabulary
    of its one model) up to rounding. The formulas are those of training
    (:func:`nlp.models.vectorize.transform`).
    """

    def __init__(self, models: Sequence[LinearTextModel]) -> None:
        """Build the union tables; ``models`` must not change afterwards."""
        import numpy as np

        self.models = tuple(models)
        widths = [len(model.intercept) for model in self.models]
        bounds = np.cumsum([0, *widths])
        self._rows = [(int(start), int(stop)) for start, stop in itertools.pairwise(bounds)]
        self._intercept = np.concatenate([model.intercept for model in self.models])
        # Which model each decision row belongs to, to apply that model's norms.
        self._row_model = np.repeat(np.arange(len(self.models)), widths)
        self._index: dict[str, dict[str, int]] = {}
        # Per block, one row per term: the coefficients of all models' rows times the
        # term's IDF in each model, then the IDF² in each model (for the L2 norms).
        self._tables: dict[str, npt.NDArray[np.float64]] = {}
        # Where each model's current block starts among its coefficient columns.
        offsets = [0] * len(self.models)
        for block in BLOCK_ORDER:
            index: dict[str, int] = {}
            for model in self.models:
                for term in model.terms.get(block, []):
                    index.setdefault(term, len(index))
            weights = np.zeros((len(index), int(bounds[-1])))
            idf_squared = np.zeros((len(index), len(self.models)))
            for position, (model, (start, stop)) in enumerate(zip(self.models, self._rows, strict=True)):
                terms = model.terms.get(block, [])
                if not terms:
                    continue
                rows = np.fromiter((index[term] for term in terms), dtype=np.intp, count=len(terms))
                columns = np.arange(offsets[position], offsets[position] + len(terms))
                offsets[position] += len(terms)
                # Dense features are used as they are.
                idf = model.idf[block] if block in model.idf and block != LEXICON_BLOCK else np.ones(len(terms))
                weights[rows, start:stop] = (model.coef[:, columns] * idf).T
                idf_squared[rows, position] = idf * idf
            self._index[block] = index
            # One table per block, so one gather per comment fetches both.
            self._tables[block] = np.hstack([weights, idf_squared])

    def decide(self, features: Features) -> JointDecisions:
        """Every model's decision values for one comment's feature blocks."""
        import numpy as np

        width = len(self._intercept)
        values = self._intercept.copy()
        for block in SPARSE_BLOCKS:
            rows, counts = _look_up(self._index[block], features.get(block))
            if not rows.size:
                continue
            tf = 1.0 + np.log(counts)  # sublinear, as in training
            table = self._tables[block][rows]
            # Σ tf·coef·idf per decision row, and Σ tf²·idf² (the squared norm) per model.
            sums = tf @ table[:, :width]
            squares = (tf * tf) @ table[:, width:]
            inverse = [1.0 / math.sqrt(square) if square > 0 else 0.0 for square in squares.tolist()]
            values += sums * np.array(inverse)[self._row_model]
        rows, dense = _look_up(self._index[LEXICON_BLOCK], features.get(LEXICON_BLOCK))
        if rows.size:
            values += dense @ self._tables[LEXICON_BLOCK][rows, :width]
        return JointDecisions(self, values.tolist())

    def rows_of(self, model: LinearTextModel) -> tuple[int, int]:
        """Where ``model``'s decision values sit in a :class:`JointDecisions`."""
        for candidate, rows in zip(self.models, self._rows, strict=True):
            if candidate is model:
                return rows
        raise KeyError(f"model {model.task} {model.version} is not in this vocabulary")


@dataclass(frozen=True)
class JointDecisions:
    """The decision values of every model of a :class:`SharedVocabulary` for one comment."""

    vocabulary: SharedVocabulary
    values: list[float]

    def of(self, model: LinearTextModel) -> list[float]:
        """``model``'s decision values, as :meth:`LinearTextModel.decision` gives them."""
        start, stop = self.vocabulary.rows_of(model)
        return self.values[start:stop]


# What a model scores: a comment's feature blocks, or its joint decision values.
ModelInput: TypeAlias = Features | JointDecisions


def _look_up(
    index: dict[str, int], block: dict[str, float] | None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Row numbers and values of a block's known features (the loops run in C)."""
    import numpy as np

    if not block:
        return np.empty(0, dtype=np.intp), np.empty(0)
    size = len(block)
    rows = np.fromiter(map(index.get, block, itertools.repeat(-1)), dtype=np.intp, count=size)
    values = np.fromiter(block.values(), dtype=np.float64, count=size)
    known = rows >= 0
    return rows[known], values[known]


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)
