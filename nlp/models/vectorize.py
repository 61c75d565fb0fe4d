"""Fitting and applying the TF-IDF layout of :mod:`nlp.linear` on many comments at once.

Training needs sparse matrices for scikit-learn; inference (``LinearTextModel``) works
one comment at a time. Both use the same formulas: sublinear term frequency
(1 + log tf), smoothed IDF log((1 + n) / (1 + df)) + 1 as in scikit-learn, L2 norm per
sparse block, dense lexicon block unchanged.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from nlp.features import BLOCK_ORDER, LEXICON_BLOCK, SPARSE_BLOCKS, Features
from nlp.linear import tf_idf_weights


@dataclass(frozen=True)
class Vocabulary:
    """Terms per block and the IDF of each sparse-block term."""

    terms: dict[str, list[str]]
    idf: dict[str, npt.NDArray[np.float64]]

    @property
    def n_features(self) -> int:
        """Total number of columns over all blocks."""
        return sum(len(terms) for terms in self.terms.values())


def fit_vocabulary(
    docs: Sequence[Features],
    *,
    min_df: int = 2,
    max_features: dict[str, int] | None = None,
) -> Vocabulary:
    """Choose the terms seen in at least ``min_df`` comments (most frequent first if capped)."""
    n_docs = len(docs)
    terms: dict[str, list[str]] = {}
    idf: dict[str, npt.NDArray[np.float64]] = {}
    for block in SPARSE_BLOCKS:
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.get(block, {}).keys())
        kept = [(term, count) for term, count in df.items() if count >= min_df]
        cap = (max_features or {}).get(block)
        if cap is not None and len(kept) > cap:
            kept.sort(key=lambda item: (-item[1], item[0]))
            kept = kept[:cap]
        kept.sort()
        terms[block] = [term for term, _ in kept]
        idf[block] = np.array([math.log((1 + n_docs) / (1 + count)) + 1.0 for _, count in kept], dtype=np.float64)
    dense = sorted({name for doc in docs for name in doc.get(LEXICON_BLOCK, {})})
    terms[LEXICON_BLOCK] = dense
    return Vocabulary(terms=terms, idf=idf)


def transform(docs: Sequence[Features], vocabulary: Vocabulary) -> csr_matrix:
    """Build the feature matrix of ``docs`` (one row per comment) under ``vocabulary``."""
    offsets: dict[str, int] = {}
    index: dict[str, dict[str, int]] = {}
    offset = 0
    for block in BLOCK_ORDER:
        block_terms = vocabulary.terms.get(block, [])
        offsets[block] = offset
        index[block] = {term: i for i, term in enumerate(block_terms)}
        offset += len(block_terms)
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for doc in docs:
        for block in SPARSE_BLOCKS:
            weights = tf_idf_weights(doc.get(block, {}), index[block], vocabulary.idf[block])
            norm = math.sqrt(sum(weight * weight for weight in weights.values()))
            if norm > 0:
                indices.extend(offsets[block] + column for column in weights)
                values.extend(weight / norm for weight in weights.values())
        block_index = index[LEXICON_BLOCK]
        for name, value in doc.get(LEXICON_BLOCK, {}).items():
            i = block_index.get(name)
            if i is not None:
                indices.append(offsets[LEXICON_BLOCK] + i)
                values.append(value)
        indptr.append(len(indices))
    return csr_matrix(
        (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr)),
        shape=(len(docs), offset),
    )
