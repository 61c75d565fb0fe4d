"""Grouping of near-identical complaints (the same problem raised by many citizens).

Character bigram TF vectors compared by cosine: robust to the small edits people make
when they copy a complaint or describe the same incident (word order, particles,
punctuation), and independent of segmentation. Groups are connected components of the
"similar enough" graph. The domain's generic words (民警, 派出所, 当事人 …, the list
:func:`nlp.keywords.generic_words` keeps out of the themes) are left out of the
comparison: 城南派出所户籍窗口态度太差了 and 城南派出所户籍窗口排队太久了 share a long opening
and no complaint.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from nlp.keywords import generic_words
from nlp.normalize import normalize_text

DEFAULT_THRESHOLD = 0.6


@functools.cache
def _generic() -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(generic_words(), key=len, reverse=True))))


def _letters(text: str) -> str:
    """What two texts are compared on: their letters and digits, normalised, without generic words.

    A text of generic words alone keeps them (民警 is still 民警).
    """
    letters = "".join(ch for ch in normalize_text(text) if ch.isalnum())
    return _generic().sub("", letters) or letters


def _bigrams(chars: str) -> dict[str, float]:
    if len(chars) < 2:
        return {chars: 1.0} if chars else {}
    grams: dict[str, float] = {}
    for i in range(len(chars) - 1):
        gram = chars[i : i + 2]
        grams[gram] = grams.get(gram, 0.0) + 1.0
    return grams


def group_similar(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Group the indices of ``texts`` by near-identity, largest group first.

    Every index appears in exactly one group (singletons included) so the dashboard can
    show counts; groups keep input order inside and ties keep first appearance.

    Texts with the same letters are one vertex of the graph (a complaint copied by many
    citizens is compared once), and the similar pairs are picked out of each block of the
    similarity matrix with numpy before the components are found, so ten thousand copies
    take well under a second instead of minutes. A text without letters or digits stays
    on its own.
    """
    import numpy as np  # lazy: keep `import nlp` free of numpy/scipy
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    vertex_of: dict[str, int] = {}
    vertices: list[str] = []
    owner: list[int] = []
    for text in texts:
        letters = _letters(text)
        if letters and letters in vertex_of:
            owner.append(vertex_of[letters])
            continue
        if letters:
            vertex_of[letters] = len(vertices)
        owner.append(len(vertices))
        vertices.append(letters)
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for row, letters in enumerate(vertices):
        for gram, count in _bigrams(letters).items():
            rows.append(row)
            cols.append(vocab.setdefault(gram, len(vocab)))
            values.append(count)
    m = len(vertices)
    edges_a: list[np.ndarray] = []
    edges_b: list[np.ndarray] = []
    if vocab:
        matrix = csr_matrix((values, (rows, cols)), shape=(m, len(vocab)), dtype=np.float64)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix = csr_matrix(matrix.multiply(1.0 / norms[:, None]))
        block = 2000  # blocks of rows keep each similarity matrix small for large exports
        for start in range(0, m, block):
            sims = (matrix[start : start + block] @ matrix.T).tocoo()
            a = sims.row.astype(np.int64) + start
            keep = (sims.data >= threshold) & (a < sims.col)
            edges_a.append(a[keep])
            edges_b.append(sims.col[keep].astype(np.int64))
    if edges_a:
        a, b = np.concatenate(edges_a), np.concatenate(edges_b)
        graph = csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(m, m))
        _, labels = connected_components(graph, directed=False)
    else:
        labels = np.arange(m)
    groups: dict[int, list[int]] = {}
    for index, vertex in enumerate(owner):
        groups.setdefault(int(labels[vertex]), []).append(index)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))
