"""The rule engine: negation scope, double negation, degree, contrast, neutral replies."""

from __future__ import annotations

import pytest

from nlp.lexicon import default_lexicon_scorer
from nlp.normalize import normalize_text


def score(text: str) -> float:
    return default_lexicon_scorer().score(normalize_text(text)).score


def label(text: str) -> str:
    return default_lexicon_scorer().score(normalize_text(text)).label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不满意", "negative"),
        ("不太满意", "negative"),
        ("非常满意", "positive"),
        ("感谢民警同志", "positive"),
        ("没有人联系我", "negative"),
        ("根本没人管", "negative"),
        ("一般", "neutral"),
        ("还行吧", "neutral"),
        ("无", "neutral"),
        ("👍👍", "positive"),
        ("😡", "negative"),
    ],
)
def test_labels(text: str, expected: str) -> None:
    assert label(text) == expected


def test_degree_orders_strength() -> None:
    assert score("非常满意") > score("满意") > score("有点满意") > 0
    assert score("很不满意") < score("不满意") < score("不太满意") < 0


def test_double_negation_is_mildly_positive() -> None:
    assert 0 < score("没有不满意") < score("满意")


def test_negation_scope_ends_at_clause() -> None:
    # 不 in the first clause must not flip 热情 in the second.
    assert score("我不清楚,民警很热情") > 0


def test_clause_after_contrast_weighs_more() -> None:
    assert score("虽然出警很快,但是态度很差") < 0
    assert score("虽然排了会儿队,但是办得很快") > 0


def test_skip_phrases_do_not_negate() -> None:
    assert score("没想到民警这么热情") > 0
