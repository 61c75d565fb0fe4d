"""Grouping of near-identical complaints (the same problem raised by many citizens).

Character bigram TF vectors compared by cosine: robust to the small edits people make
when they copy a complaint or describe the same incident (word order, particles,
punctuation), and independent of segmentation. Groups are connected components of the
"similar enough" graph, found with union-find.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlp.normalize import normalize_text

DEFAULT_THRESHOLD = 0.6


def _bigrams(text: str) -> dict[str, float]:
    chars = "".join(ch for ch in normalize_text(text) if ch.isalnum())
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
    """
    import numpy as np  # lazy: keep `import nlp` free of numpy/scipy
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for row, text in enumerate(texts):
        for gram, count in _bigrams(text).items():
            rows.append(row)
            cols.append(vocab.setdefault(gram, len(vocab)))
            values.append(count)
    n = len(texts)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if vocab:
        matrix = csr_matrix((values, (rows, cols)), shape=(n, len(vocab)), dtype=np.float64)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix = csr_matrix(matrix.multiply(1.0 / norms[:, None]))
        # Blocks of rows keep the similarity matrix small for large exports.
        block = 2000
        for start in range(0, n, block):
            sims = (matrix[start : start + block] @ matrix.T).tocoo()
            for i, j, sim in zip(sims.row, sims.col, sims.data, strict=True):
                a, b = start + int(i), int(j)
                if a < b and sim >= threshold:
                    root_a, root_b = find(a), find(b)
                    if root_a != root_b:
                        parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))
