"""Word segmentation: our own jieba segmenter with the police/government-service dictionary.

Segmentation is jieba's algorithm (dictionary DAG, best path by word frequency, HMM for
unseen words) as implemented by jieba-rs through its ``rjieba`` binding: the same
dictionary, and the same cuts as the Python jieba on every comment of the police corpus
and the blind set (in public review sets it differs on about one text in a thousand: it
keeps runs such as ``8-9`` and ``2016.1.4`` whole, where Python jieba splits them), at a
twentieth of the cost, which matters on a path that analyses thousands of comments a
second. The module-level segmenters of both libraries are shared by every user in the
process; adding our domain words to one would change segmentation for everyone else,
so we build a private one lazily, on first use, and cache it per process.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

from nlp.normalize import normalize_text
from nlp.once import once
from nlp.package_data import package_file

if TYPE_CHECKING:
    import rjieba

# A frequency high enough that jieba keeps domain terms whole against its general
# dictionary (e.g. 执法记录仪 rather than 执法/记录仪) yet not so high that they swallow
# neighbouring characters.
_DEFAULT_DOMAIN_FREQ = 2000


def read_resource_lines(name: str) -> list[str]:
    """Return the non-empty, non-comment lines of a text file in ``nlp/resources``."""
    text = resources.files("nlp.resources").joinpath(name).read_text(encoding="utf-8")
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def domain_terms() -> list[tuple[str, int, str | None]]:
    """Return the domain dictionary as (word, frequency, part-of-speech tag) rows."""
    rows: list[tuple[str, int, str | None]] = []
    for line in read_resource_lines("domain_dict.txt"):
        parts = line.split()
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 else _DEFAULT_DOMAIN_FREQ
        tag = parts[2] if len(parts) > 2 else None
        rows.append((word, freq, tag))
    return rows


@functools.cache
def stopwords() -> frozenset[str]:
    """Words that carry no topic (particles, pronouns, filler), for keywords and themes."""
    return frozenset(read_resource_lines("stopwords.txt"))


@once
def get_segmenter() -> rjieba.Jieba:
    """Build, once per process, a jieba segmenter that knows our domain terms."""
    import rjieba  # lazy: loading the dictionary takes a few hundred ms; only on first use

    segmenter = rjieba.Jieba()
    for word, freq, tag in domain_terms():
        segmenter.add_word(word, max(freq, 1), tag)
    return segmenter


@functools.cache
def word_frequencies() -> tuple[dict[str, int], int]:
    """Return jieba's dictionary frequencies with our domain terms, and their total.

    These are the figures jieba's own tokenizer holds after ``add_word`` of each domain
    term (its ``FREQ`` and ``total``), read from the dictionary file jieba ships, for
    the keyword IDF of one comment.
    """
    frequencies: dict[str, int] = {}
    total = 0
    with package_file("jieba", "dict.txt", needed_for="its dictionary").open(encoding="utf-8") as handle:
        for line in handle:
            word, count = line.split(" ", 2)[:2]
            frequencies[word] = int(count)
            total += int(count)
    for term, freq, _ in domain_terms():
        frequencies[term] = max(freq, 1)
        total += max(freq, 1)
    return frequencies, total


def segment(text: str, *, normalize: bool = True) -> list[str]:
    """Split ``text`` into words, dropping whitespace tokens.

    ``normalize=False`` is for callers that already ran :func:`normalize_text` (the
    analyzer does, once per comment).
    """
    if normalize:
        text = normalize_text(text)
    return [word for word in get_segmenter().cut(text, True) if not word.isspace()]
