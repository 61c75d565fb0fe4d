"""Segmentation with our own jieba segmenter and domain dictionary."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nlp.tokenizer import domain_terms, segment, stopwords, word_frequencies


@pytest.mark.parametrize("term", ["执法记录仪", "接处警", "派出所", "辅警", "无犯罪记录证明", "12345"])
def test_domain_terms_stay_whole(term: str) -> None:
    assert term in segment(f"我去{term}那里问了一下")


def test_dictionary_is_large_enough() -> None:
    assert len(domain_terms()) >= 300


def test_traditional_input_is_segmented_as_simplified() -> None:
    assert "执法记录仪" in segment("執法記錄儀沒有打開")


def test_stopwords_loaded() -> None:
    assert {"的", "了", "我们"} <= stopwords()


def test_shared_segmenters_untouched() -> None:
    """Our dictionary must not leak into the segmenters jieba and rjieba share per process."""
    code = (
        "import jieba, rjieba\n"
        "from nlp.tokenizer import segment\n"
        "assert segment('执法记录仪没开')[0] == '执法记录仪'\n"
        "assert not rjieba.has_word('执法记录仪'), 'rjieba default segmenter changed'\n"
        "assert not jieba.dt.initialized, 'jieba global tokenizer was initialised'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # noqa: S603 - our own code


def test_segmentation_matches_python_jieba() -> None:
    """jieba-rs cuts as Python jieba does with the same dictionary and domain words."""
    import jieba

    reference = jieba.Tokenizer()
    for word, freq, tag in domain_terms():
        reference.add_word(word, max(freq, 1), tag)
    texts = [
        "民警态度恶劣，出警太慢了，等了一个多小时才来",
        "派出所的辅警帮我调解了邻里纠纷，执法记录仪全程开着",
        "打12345和110都没人管，这个问题拖了三个月",
        "小哥哥超级nice，点赞👍",
        "窗口办身份证排队两小时，工作人员在玩手机",
    ]
    for text in texts:
        assert segment(text, normalize=False) == [w for w in reference.lcut(text) if not w.isspace()]


def test_word_frequencies_include_domain_terms() -> None:
    frequencies, total = word_frequencies()
    assert frequencies["执法记录仪"] >= 1
    assert frequencies["民警"] > 0
    assert total > sum(1 for _ in frequencies)


def test_import_nlp_loads_nothing_heavy() -> None:
    code = (
        "import sys, nlp\n"
        "heavy = {'jieba', 'rjieba', 'numpy', 'scipy', 'sklearn', 'snownlp', 'zhconv'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # noqa: S603 - our own code
