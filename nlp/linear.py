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
from nlp.model_file import FORMAT, read_model_file, replace_files

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


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
    # Each block's term -> column within the block (built on first use of decision_within).
    _columns: dict[str, dict[str, int]] | None = field(default=None, init=False, repr=False, compare=False)

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

    def decision_within(self, part: Features, whole: Features) -> list[float]:
        """Decision values of ``part`` of a comment, its terms weighed as they weigh in ``whole``.

        :meth:`decision` scales each sparse block to unit length, so a few words scored
        on their own weigh as much as a whole comment (民警 alone is a comment to it).
        Here each sparse block of ``part`` is divided by the norm of ``whole``'s block
        instead: the result is the intercept plus the share of ``whole``'s decision that
        the terms of ``part`` carry (exactly, when their counts are those in ``whole``).
        Dense values are taken from ``part`` as they are. A plain loop over the terms:
        for occasional calls, not the analysis path.
        """
        import numpy as np

        if self._columns is None:
            self._columns = {block: {t: i for i, t in enumerate(self.terms.get(block, []))} for block in BLOCK_ORDER}
        values = np.array(self.intercept, dtype=np.float64)
        start = 0
        for block in BLOCK_ORDER:
            columns = self._columns[block]
            if block == LEXICON_BLOCK:
                weights = {columns[name]: value for name, value in (part.get(block) or {}).items() if name in columns}
            elif columns:
                idf = self.idf[block]
                whole_weights = tf_idf_weights(whole.get(block) or {}, columns, idf)
                norm = math.sqrt(sum(weight * weight for weight in whole_weights.values()))
                part_weights = tf_idf_weights(part.get(block) or {}, columns, idf)
                weights = {column: weight / norm for column, weight in part_weights.items()} if norm > 0 else {}
            else:
                weights = {}
            if weights:
                values += self.coef[:, [start + column for column in weights]] @ np.fromiter(weights.values(), float)
            start += len(columns)
        return [float(value) for value in values]

    def predict_proba(self, features: ModelInput) -> dict[str, float]:
        """Class probabilities (multi-label: independent per class, not summing to 1)."""
        return self.probabilities(self.decision(features))

    def probabilities(self, scores: Sequence[float]) -> dict[str, float]:
        """Class probabilities from decision values (:meth:`decision`, :meth:`decision_within`)."""
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
        """Write ``<name>.json`` (header) and ``<name>.npz`` (arrays) side by side, atomically.

        Both are written in full under temporary names first, then renamed into place,
        arrays before header (:func:`nlp.model_file.replace_files` says why): a failure
        while writing leaves the model that was there loadable, as it was.
        """
        import io

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
        arrays: dict[str, Any] = {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        for block, terms in self.terms.items():
            arrays[f"terms_{block}"] = np.array(terms, dtype=np.str_)
            if block in self.idf:
                arrays[f"idf_{block}"] = self.idf[block].astype(np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        replace_files(
            [
                (path.with_suffix(".npz"), buffer.getvalue()),
                (path.with_suffix(".json"), (json.dumps(header, ensure_ascii=False, indent=1) + "\n").encode()),
            ]
        )

    @classmethod
    def load(cls, path: str | Path, task: str | None = None) -> LinearTextModel:
        """Read a model written by :meth:`save` (``path`` may name either file), checked.

        ``task`` is the task the file is loaded as; by default the one its name gives
        (``sentiment.json``, as in a model directory), so a category model copied over a
        sentiment one is refused. Every defect raises :class:`ModelFileError` naming the
        file: a model that loads scores finite values without index or broadcast errors,
        whereas an unchecked NaN intercept made every comment negative and urgent.
        """
        model = read_model_file(Path(path), task)
        header = model.header
        return cls(
            task=header.task,
            version=header.version,
            classes=header.classes,
            multilabel=header.multilabel,
            config=header.config,
            terms=model.terms,
            idf=model.idf,
            coef=model.coef,
            intercept=model.intercept,
            metadata=header.metadata,
        )


class SharedVocabulary:
    """Several models over the same features, scored together.

    Every comment goes through up to three linear models (sentiment, category, urgency)
    whose vocabularies overlap almost entirely. Scoring them one by one looks every
    n-gram up three times in Python, the analysis path's largest cost. Here each feature
    is looked up once in the union of the vocabularies, and one gather from one table
    fetches, for all of a comment's features of every block, the coefficients of every
    model's decision rows (each model's IDF folded in) and each term's IDF² per model and
    block (for the per-block L2 norms, which each model takes over its own terms only).
    A handful of array operations per comment then give each model the values it gives
    alone (:meth:`LinearTextModel.decision` scores through a vocabulary of its one model)
    up to rounding; the formulas are those of training
    (:func:`nlp.models.vectorize.transform`). Array calls, not arithmetic, are the cost
    at this size, which is why the blocks share one table.
    """

    def __init__(self, models: Sequence[LinearTextModel]) -> None:
        """Build the union table; ``models`` must not change afterwards."""
        import numpy as np

        self.models = tuple(models)
        widths = [len(model.intercept) for model in self.models]
        bounds = np.cumsum([0, *widths])
        self._rows = [(int(start), int(stop)) for start, stop in itertools.pairwise(bounds)]
        self._intercept = np.concatenate([model.intercept for model in self.models])
        # Which model each decision row belongs to, to apply that model's norms.
        self._row_model = np.repeat(np.arange(len(self.models)), widths)
        width, model_count = int(bounds[-1]), len(self.models)
        # Per block, each term's row in the table; rows run block after block (in
        # BLOCK_ORDER) and the last row is all zeros, for terms no model knows.
        self._indices: list[dict[str, int]] = []
        parts: list[npt.NDArray[np.float64]] = []
        # Where each model's current block starts among its coefficient columns.
        offsets = [0] * model_count
        first_row = 0
        for block_number, block in enumerate(BLOCK_ORDER):
            index: dict[str, int] = {}
            for model in self.models:
                for term in model.terms.get(block, []):
                    index.setdefault(term, first_row + len(index))
            # Columns: the decision rows, then IDF² per (sparse block, model).
            part = np.zeros((len(index), width + len(SPARSE_BLOCKS) * model_count))
            for position, (model, (start, stop)) in enumerate(zip(self.models, self._rows, strict=True)):
                terms = model.terms.get(block, [])
                if not terms:
                    continue
                rows = np.fromiter((index[term] - first_row for term in terms), dtype=np.intp, count=len(terms))
                columns = np.arange(offsets[position], offsets[position] + len(terms))
                offsets[position] += len(terms)
                # Dense features are used as they are.
                idf = model.idf[block] if block in model.idf and block != LEXICON_BLOCK else np.ones(len(terms))
                part[rows, start:stop] = (model.coef[:, columns] * idf).T
                if block != LEXICON_BLOCK:
                    part[rows, width + block_number * model_count + position] = idf * idf
            self._indices.append(index)
            parts.append(part)
            first_row += len(index)
        parts.append(np.zeros((1, parts[0].shape[1])))
        self._table = np.vstack(parts)
        self._unknown = first_row
        self._width = width
        self._dense_factors = [1.0] * (len(BLOCK_ORDER) - len(SPARSE_BLOCKS)) * model_count

    def decide(self, features: Features) -> JointDecisions:
        """Every model's decision values for one comment's feature blocks."""
        import numpy as np

        blocks = [features.get(block) or {} for block in BLOCK_ORDER]
        sizes = [len(block) for block in blocks]
        count = sum(sizes)
        if not count:
            return JointDecisions(self, self._intercept.tolist())
        unknown = itertools.repeat(self._unknown)
        rows = np.fromiter(
            itertools.chain.from_iterable(
                map(index.get, block, unknown) for index, block in zip(self._indices, blocks, strict=True)
            ),
            dtype=np.intp,
            count=count,
        )
        weights = np.fromiter(
            itertools.chain.from_iterable(block.values() for block in blocks), dtype=np.float64, count=count
        )
        sparse = count - sizes[-1]
        # Sparse counts become sublinear term frequencies, as in training; dense values stay.
        np.log(weights[:sparse], out=weights[:sparse])
        weights[:sparse] += 1.0
        table = self._table.take(rows, axis=0)
        width = self._width
        # Per block, Σ tf·coef·idf for every decision row (each block's own terms only);
        # in the last row, Σ tf²·idf² per (sparse block, model): the squared norms.
        weighted = np.zeros((len(BLOCK_ORDER) + 1, count))
        start = 0
        for block_number, size in enumerate(sizes):
            weighted[block_number, start : start + size] = weights[start : start + size]
            start += size
        np.square(weights[:sparse], out=weighted[-1, :sparse])
        products = weighted @ table
        # Each decision row's sum is scaled by its model's inverse norm (1 for dense values).
        factors = [1.0 / math.sqrt(square) if square > 0 else 0.0 for square in products[-1, width:].tolist()]
        factors += self._dense_factors
        scale = np.array(factors).reshape(len(BLOCK_ORDER), len(self.models))[:, self._row_model]
        values = self._intercept + (products[:-1, :width] * scale).sum(axis=0)
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


def tf_idf_weights(counts: dict[str, float], columns: dict[str, int], idf: npt.NDArray[np.float64]) -> dict[int, float]:
    """Sublinear TF times IDF of a block's known terms, by column, before the block's L2 norm.

    The one formula of training (:func:`nlp.models.vectorize.transform`) and of scoring part
    of a comment (:meth:`LinearTextModel.decision_within`).
    """
    known = ((columns[term], count) for term, count in counts.items() if term in columns)
    return {column: (1.0 + math.log(count)) * float(idf[column]) for column, count in known}


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)
