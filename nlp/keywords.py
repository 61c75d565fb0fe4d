"""Keywords of one comment and themes of many (per unit and period, for the dashboard).

Both use jieba's TF-IDF idea with our own segmenter. One comment is scored against
jieba's dictionary frequencies (read once per process). Collections use jieba's bundled
IDF table (read once, on first use) or TextRank over a co-occurrence window; stop-words
(with conversational and dialect fillers: 啥子, 咋个, 晓得, 来得, 有点 …), punctuation and
numbers are never keywords, and the domain's generic words (民警, 派出所, 对方, 报警 …)
are never themes.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from nlp.package_data import package_file
from nlp.tokenizer import read_resource_lines, segment, stopwords, word_frequencies

_MIN_WORD_CHARS = 2
# A number written in Chinese, with what it counts (三十分钟, 两个, 四五次, 一百块, 一个半,
# 半天, 几次, 两句): a number all the same, though str.isalpha() is true for 一 and 十.
# 多余 (superfluous: 多余的费用) is a word, not 多 counted with 余.
_CHINESE_NUMBER = re.compile(
    r"(?!多余)[零〇一二两三四五六七八九十百千万亿半几多]+"
    r"[几多来余半个次回趟遍分钟秒小时天日周月年号块元角岁名位条件项句声眼步顿拳脚]*"
)
# Words the segmenter has never seen (HMM-found names, new slang) are rare by definition.
_UNSEEN_LOG_FREQ = 2.0


def is_keyword_candidate(word: str, stop: frozenset[str]) -> bool:
    """Tell whether a word can be a topic: 2+ characters, no stop-word, no number.

    Latin-script words count only as acronyms (APP, QQ): the odd English comment
    would otherwise put "the" and "at" among a unit's complaint themes.
    """
    if len(word) < _MIN_WORD_CHARS or word in stop:
        return False
    if not word.isalpha() and not any(ch.isalpha() for ch in word):
        return False
    if _CHINESE_NUMBER.fullmatch(word):
        return False
    return not word.isascii() or (word.isalpha() and word.isupper())


@functools.cache
def _dictionary_idf() -> tuple[dict[str, int], float]:
    frequencies, total = word_frequencies()
    return frequencies, math.log(total)


def comment_keywords(words: Sequence[str], top_k: int = 5) -> tuple[str, ...]:
    """Up to ``top_k`` keywords of one segmented comment, best first (ties: first seen)."""
    stop = stopwords()
    freq, log_total = _dictionary_idf()
    counts: dict[str, int] = {}
    for word in words:
        if is_keyword_candidate(word, stop):
            counts[word] = counts.get(word, 0) + 1
    scored = []
    for order, (word, count) in enumerate(counts.items()):
        word_freq = freq.get(word, 0)
        idf = log_total - (math.log(word_freq) if word_freq > 0 else _UNSEEN_LOG_FREQ)
        scored.append((-count * idf, order, word))
    scored.sort()
    return tuple(word for _, _, word in scored[:top_k])


@functools.cache
def _jieba_idf_table() -> tuple[dict[str, float], float]:
    """Load jieba's bundled IDF table and its median (jieba's default for unseen words)."""
    # Read the file directly: importing jieba.analyse builds a TFIDF that leaks an open file.
    idf_file = package_file("jieba", "analyse/idf.txt", needed_for="its IDF table")
    table: dict[str, float] = {}
    with idf_file.open("r", encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2:
                table[parts[0]] = float(parts[1])
    values = sorted(table.values())
    return table, values[len(values) // 2]


@functools.cache
def generic_words() -> frozenset[str]:
    """Words nearly every comment to a police unit uses (民警, 派出所, 对方, 报警 …).

    A theme should name a problem (态度, 出警慢, 推诿, 没人接), and these name only who
    and what a comment is about, so they are never themes; one comment's keywords keep
    them. They are a list (``resources/generic_words.txt``), not a share of comments
    counted at run time: in the police corpus even 民警 is in only 7 % of comments and
    派出所 in 2 %, while 态度 (3.7 %) and 电话 (2.5 %) name problems, so no threshold
    tells them apart; and among one unit's complaints the share of a real theme (出警
    at a slow station) is high by definition.
    """
    return frozenset(read_resource_lines("generic_words.txt"))


def _candidate_words(texts: Iterable[str]) -> list[list[str]]:
    """The words of each text that can be a theme: keyword candidates, no generic word."""
    stop = stopwords() | generic_words()
    return [[w for w in segment(text) if is_keyword_candidate(w, stop)] for text in texts]


def top_keywords(
    texts: Sequence[str],
    top_k: int = 10,
    *,
    method: Literal["tfidf", "textrank"] = "tfidf",
) -> list[tuple[str, float]]:
    """Return the ``top_k`` themes of a set of comments as (word, weight), heaviest first.

    ``tfidf`` weighs term frequency over the whole set by jieba's IDF table, which
    favours specific complaints (记录仪, 调解) over words every comment uses.
    ``textrank`` ranks words by co-occurrence (window 5, damping 0.85 as in jieba),
    which favours words that tie many comments together. Weights are scaled so the
    first is 1.0.
    """
    docs = _candidate_words(texts)
    if method == "textrank":
        ranked = _textrank(docs)
    else:
        idf, median = _jieba_idf_table()
        counts = Counter(word for doc in docs for word in doc)
        total = sum(counts.values()) or 1
        ranked = [(word, count / total * idf.get(word, median)) for word, count in counts.items()]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    top = ranked[:top_k]
    if not top or top[0][1] <= 0:
        return top
    best = top[0][1]
    return [(word, round(weight / best, 4)) for word, weight in top]


def _textrank(docs: list[list[str]], window: int = 5, iterations: int = 10) -> list[tuple[str, float]]:
    graph: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for doc in docs:
        for i, word in enumerate(doc):
            for other in doc[i + 1 : i + window]:
                if other != word:
                    graph[word][other] += 1.0
                    graph[other][word] += 1.0
    if not graph:
        return []
    damping = 0.85
    start = 1.0 / len(graph)
    rank = dict.fromkeys(graph, start)
    out_weight = {word: sum(edges.values()) for word, edges in graph.items()}
    for _ in range(iterations):
        rank = {
            word: (1 - damping)
            + damping * sum(weight / out_weight[other] * rank[other] for other, weight in edges.items())
            for word, edges in graph.items()
        }
    return list(rank.items())
