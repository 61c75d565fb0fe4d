"""Word segmentation: our own jieba tokenizer with the police/government-service dictionary.

jieba's module-level functions share one global tokenizer; adding our domain words to it
would change segmentation for every other user of jieba in the process. So we build a
private ``jieba.Tokenizer`` lazily, on first use, and cache it per process.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

from nlp.normalize import normalize_text

if TYPE_CHECKING:
    import jieba

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


@functools.cache
def get_tokenizer() -> jieba.Tokenizer:
    """Build, once per process, a jieba tokenizer that knows our domain terms.

    The words are added one by one with explicit frequencies: jieba's ``load_userdict``
    leaves the file open when given a path, and a zero frequency would touch jieba's
    global HMM state.
    """
    import jieba  # lazy: importing jieba costs ~150 ms; only on first use

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in domain_terms():
        tokenizer.add_word(word, max(freq, 1), tag)
    return tokenizer


def segment(text: str, *, normalize: bool = True) -> list[str]:
    """Split ``text`` into words, dropping whitespace tokens.

    ``normalize=False`` is for callers that already ran :func:`normalize_text` (the
    analyzer does, once per comment).
    """
    if normalize:
        text = normalize_text(text)
    return [word for word in get_tokenizer().lcut(text) if not word.isspace()]
