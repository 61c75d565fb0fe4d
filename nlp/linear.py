"""A linear text model stored as plain data and evaluated without scikit-learn.

Models are trained with scikit-learn but shipped as a JSON header (task, classes,
version, feature configuration) beside an ``.npz`` of arrays (terms, IDF weights,
coefficients). Unlike a pickle this is safe to load, diffable in its header, readable by
any future scikit-learn or none, and it avoids the per-call overhead of sklearn's
vectorisers, which matters for thousands of comments per second.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.features import LEXICON_BLOCK, SPARSE_BLOCKS, FeatureConfig, Features

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
    # Per block: term -> (column, IDF), one dict lookup per n-gram on the hot path.
    _lookup: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        """Index the terms and check the coefficient width against them."""
        offset = 0
        for block in (*SPARSE_BLOCKS, LEXICON_BLOCK):
            terms = self.terms.get(block, [])
            idf = self.idf[block].tolist() if block in self.idf else [1.0] * len(terms)
            self._lookup[block] = {term: (offset + i, idf[i]) for i, term in enumerate(terms)}
            offset += len(terms)
        if self.coef.shape[1] != offset:
            raise ValueError(f"coefficient width {self.coef.shape[1]} != feature count {offset}")

    @property
    def n_features(self) -> int:
        """Total number of feature columns."""
        return int(self.coef.shape[1])

    def vectorize(self, features: Features) -> tuple[list[int], list[float]]:
        """Column indices and values of one comment (TF-IDF, per-block L2 norm)."""
        columns: list[int] = []
        values: list[float] = []
        log = math.log
        for block in SPARSE_BLOCKS:
            counts = features.get(block)
            lookup = self._lookup[block]
            if not counts or not lookup:
                continue
            block_columns: list[int] = []
            block_values: list[float] = []
            squares = 0.0
            for term, count in counts.items():
                entry = lookup.get(term)
                if entry is not None:
                    weight = entry[1] if count == 1.0 else (1.0 + log(count)) * entry[1]
                    block_columns.append(entry[0])
                    block_values.append(weight)
                    squares += weight * weight
            if squares > 0:
                norm = math.sqrt(squares)
                columns.extend(block_columns)
                values.extend([v / norm for v in block_values])
        dense = features.get(LEXICON_BLOCK)
        if dense:
            lookup = self._lookup[LEXICON_BLOCK]
            for name, value in dense.items():
                entry = lookup.get(name)
                if entry is not None:
                    columns.append(entry[0])
                    values.append(value)
        return columns, values

    def decision(self, features: Features) -> list[float]:
        """Raw linear scores, one per coefficient row."""
        import numpy as np  # lazy: numpy is loaded with the model, not with nlp

        columns, values = self.vectorize(features)
        scores = self.intercept.copy()
        if columns:
            scores += self.coef[:, columns] @ np.asarray(values)
        return [float(s) for s in scores]

    def predict_proba(self, features: Features) -> dict[str, float]:
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


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)
