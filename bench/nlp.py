"""Throughput of the whole comment analysis on one core, beside SnowNLP in the same run.

Prints load time, comments per second for full analysis (normalise, segment, sentiment,
category, urgency, keywords) of 10–60 character comments, SnowNLP's sentiment-only rate
on a subset, and resident memory. The two rates are measured in alternating rounds and
their medians reported, so a machine whose speed drifts during the run (a shared host)
affects both alike; the last line is
``comments_per_s=… snownlp_per_s=… load_s=… rss_mb=…``.

Run: ``.venv/bin/python bench/nlp.py [--comments N] [--snownlp N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file is named like the package it measures; run as a script, its own folder
# comes first on sys.path and would shadow the real ``nlp``.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

# One core: keep numpy's BLAS from spreading the (tiny) dot products over threads.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import psutil  # noqa: E402 - after the thread settings above

from nlp.analysis import Analyzer  # noqa: E402
from nlp.models.datasets import police_rows  # noqa: E402

FALLBACK_COMMENTS = [
    "民警态度恶劣，出警太慢了，等了一个多小时才来",
    "感谢派出所民警同志，帮我找回了丢失的电动车",
    "办身份证的窗口人员很耐心，一次就办好了",
    "调解结果不公平，对方一分钱没赔，我不接受",
    "报案三个月了一直没人联系我，不知道进展怎么样",
    "交警处理事故很专业，现场就把责任划分清楚了",
]


def comments(count: int, shortest: int = 10, longest: int = 60) -> list[str]:
    """``count`` comments of ``shortest``–``longest`` characters from the police corpus (or a fallback set)."""
    pool = [text for text, _ in police_rows("sentiment", "all") if shortest <= len(text) <= longest]
    pool = pool or FALLBACK_COMMENTS
    return [pool[i % len(pool)] for i in range(count)]


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--snownlp", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-chars", type=int, default=10, help="shortest comment measured")
    parser.add_argument("--max-chars", type=int, default=60, help="longest comment measured")
    args = parser.parse_args()
    process = psutil.Process()

    started = time.perf_counter()
    analyzer = Analyzer.load()
    analyzer.analyze("预热：第一次分析会建好分词器")
    load_s = time.perf_counter() - started

    texts = comments(args.comments, args.min_chars, args.max_chars)
    mean_chars = sum(map(len, texts)) / len(texts)
    ours: list[float] = []
    theirs: list[float] = []
    rss_mb = 0.0
    for number, (chunk, sample) in enumerate(
        zip(_chunks(texts, args.rounds), _chunks(texts[: args.snownlp], args.rounds), strict=True)
    ):
        ours.append(_rate(analyzer.analyze, chunk))
        if number == 0:
            rss_mb = process.memory_info().rss / 2**20
            from snownlp import SnowNLP  # lazy: imported after measuring our memory

            _ = SnowNLP(sample[0]).sentiments  # warm-up: SnowNLP loads its model on first use
        # The property computes the score.
        theirs.append(_rate(lambda text: SnowNLP(text).sentiments, sample))
        print(f"round {number + 1}: analysis {ours[-1]:.0f}/s, snownlp {theirs[-1]:.0f}/s")
    comments_per_s = statistics.median(ours)
    snownlp_per_s = statistics.median(theirs)
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]

    print(f"analyzer: {analyzer.model_version}")
    print(f"load (models + tokenizer + first analysis): {load_s:.2f} s")
    print(f"full analysis: {len(texts)} comments, mean {mean_chars:.1f} chars, {args.rounds} rounds")
    print(f"snownlp sentiment only: {args.snownlp} comments, interleaved with the analysis rounds")
    print(f"median of the rounds; analysis / snownlp per round: {min(ratios):.1f}-{max(ratios):.1f}x")
    print(f"resident memory after loading and analysing: {rss_mb:.0f} MB")
    print(
        f"comments_per_s={comments_per_s:.0f} snownlp_per_s={snownlp_per_s:.0f} load_s={load_s:.2f} rss_mb={rss_mb:.0f}"
    )


def _chunks(items: list[str], count: int) -> list[list[str]]:
    """``items`` in ``count`` consecutive chunks of near-equal size."""
    size = -(-len(items) // count)
    return [items[i * size : (i + 1) * size] for i in range(count)]


def _rate(analyse: Callable[[str], object], texts: list[str]) -> float:
    """Comments per second of ``analyse`` over ``texts``, wall clock."""
    started = time.perf_counter()
    for text in texts:
        analyse(text)
    return len(texts) / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
