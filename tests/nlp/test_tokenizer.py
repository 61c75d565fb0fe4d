"""Segmentation with our own jieba tokenizer and domain dictionary."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nlp.tokenizer import domain_terms, segment, stopwords


@pytest.mark.parametrize("term", ["执法记录仪", "接处警", "派出所", "辅警", "无犯罪记录证明", "12345"])
def test_domain_terms_stay_whole(term: str) -> None:
    assert term in segment(f"我去{term}那里问了一下")


def test_dictionary_is_large_enough() -> None:
    assert len(domain_terms()) >= 300


def test_traditional_input_is_segmented_as_simplified() -> None:
    assert "执法记录仪" in segment("執法記錄儀沒有打開")


def test_stopwords_loaded() -> None:
    assert {"的", "了", "我们"} <= stopwords()


def test_global_jieba_tokenizer_untouched() -> None:
    """Our dictionary must not leak into jieba's shared default tokenizer."""
    code = (
        "import jieba\n"
        "from nlp.tokenizer import segment\n"
        "segment('执法记录仪')\n"
        "assert not jieba.dt.initialized, 'global tokenizer was initialised'\n"
        "assert '执法记录仪' not in jieba.dt.FREQ\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # noqa: S603 - our own code


def test_import_nlp_loads_nothing_heavy() -> None:
    code = (
        "import sys, nlp\n"
        "heavy = {'jieba', 'numpy', 'scipy', 'sklearn', 'snownlp', 'zhconv'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # noqa: S603 - our own code
