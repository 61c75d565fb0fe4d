"""Keywords of a comment, themes of many, and near-duplicate grouping."""

from __future__ import annotations

from typing import Literal

import pytest

from nlp.grouping import group_similar
from nlp.keywords import comment_keywords, generic_words, top_keywords
from nlp.tokenizer import segment, stopwords

# Complaints as citizens write them: dialect fillers, the police named in every one.
COMPLAINTS = [
    "咋个这么慢哦，民警一个半小时才来",
    "问啥子都说不晓得，态度啥子嘛",
    "派出所的民警态度差，打电话也没人接",
    "报警以后等了半天，民警来得太慢了",
    "对方先动的手，民警处理不公平，几个部门互相推诿",
    "打了好几次电话都没人接，派出所就是不回电话",
    "民警说话态度差，问两句就不耐烦",
    "晓得了嘛，你们就是推诿扯皮",
]
FILLERS_AND_GENERIC_WORDS = {"啥子", "咋个", "晓得", "来得", "民警", "派出所", "对方", "报警", "处理", "小时", "半天"}


def test_comment_keywords_skip_stopwords() -> None:
    keywords = comment_keywords(segment("我们的民警出警太慢了，执法记录仪也没开"))
    assert "执法记录仪" in keywords
    assert not set(keywords) & stopwords()
    assert len(keywords) <= 5


def test_numbers_written_in_chinese_are_not_keywords() -> None:
    for text in ("等了三十分钟，两个小时才办完", "打了四五次电话都没人接", "一百块钱的罚款"):
        keywords = comment_keywords(segment(text))
        assert not {"三十分钟", "两个", "四五次", "一百块"} & set(keywords), keywords
    themes = [word for word, _ in top_keywords(["打了三次电话没人接", "三次了还是没有回音"], method="textrank")]
    assert "三次" not in themes


def test_days_of_the_week_are_no_themes() -> None:
    comments = ["周一去窗口排队两个小时", "周一又去窗口排队", "星期三去了还是排队", "礼拜天窗口不开门"]
    themes = [word for word, _ in top_keywords(comments)]
    assert "窗口" in themes
    assert not {"周一", "星期三", "礼拜天"} & set(themes)


def test_top_keywords_rank_repeated_themes() -> None:
    texts = ["执法记录仪没有开", "记录仪没开，执法不规范", "出警太慢", "执法记录仪为什么不开"]
    top = dict(top_keywords(texts, top_k=3))
    assert "执法记录仪" in top
    assert max(top.values()) == 1.0


def test_textrank_method() -> None:
    texts = ["调解结果不公平", "调解员偏袒对方", "调解结果我不接受"]
    words = [w for w, _ in top_keywords(texts, top_k=5, method="textrank")]
    assert "调解" in words


def test_group_similar() -> None:
    texts = [
        "小区门口的烧烤摊每天晚上吵到凌晨，报警多次没人管",
        "今天天气很好",
        "小区门口烧烤摊天天晚上吵到凌晨，报警很多次都没人管",
        "小区门口的烧烤摊每晚吵到凌晨!报警多次没人管!!",
    ]
    groups = group_similar(texts)
    assert groups[0] == [0, 2, 3]
    assert [1] in groups
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3]


def test_copies_are_one_group_and_texts_without_letters_stay_apart() -> None:
    texts = ["出警太慢了，等了一个小时"] * 5000 + ["", "。。", "出警太慢了!等了一个小时"] + ["？"]
    groups = group_similar(texts)
    assert groups[0] == [*range(5000), 5002]
    assert sorted(groups[1:]) == [[5000], [5001], [5003]]


def test_complaints_that_only_share_where_they_happened_are_not_one_group() -> None:
    """An audit found three different complaints about one window counted as one repeated complaint."""
    texts = ["城南派出所户籍窗口态度太差了", "城南派出所户籍窗口排队太久了", "城南派出所户籍窗口关门太早了"]
    assert group_similar(texts) == [[0], [1], [2]]
    assert group_similar([*texts, "城南派出所的户籍窗口态度太差了！"])[0] == [0, 3]


def test_group_similar_empty() -> None:
    assert group_similar([]) == []


def test_english_function_words_are_not_themes() -> None:
    words = [w for w, _ in top_keywords(["The officer at the counter was rude to me", "APP预约不了，APP一直报错"])]
    assert "the" not in words
    assert "at" not in words
    assert "APP" in words


@pytest.mark.parametrize("method", ["tfidf", "textrank"])
def test_themes_name_problems_not_fillers_or_generic_words(method: Literal["tfidf", "textrank"]) -> None:
    themes = {word for word, _ in top_keywords(COMPLAINTS, top_k=10, method=method)}
    assert not themes & FILLERS_AND_GENERIC_WORDS, themes
    assert {"态度差", "没人接", "互相推诿"} <= themes, themes


def test_quantities_are_no_keywords() -> None:
    for text in ("等了一个半小时", "问了两句就走了", "跑了几次", "等了半天"):
        assert not set(comment_keywords(segment(text))) & {"一个半", "两句", "几次", "半天", "小时"}, text
    assert "多余" in comment_keywords(segment("收了多余的费用"))  # a word, not 多 counted with 余


def test_one_comment_loses_its_fillers_but_keeps_the_generic_words() -> None:
    assert comment_keywords(segment("问啥子都说不晓得，态度啥子嘛")) == ("态度",)
    assert "民警" in comment_keywords(segment("民警态度差"))  # what one comment is about


def test_problem_words_are_neither_stop_words_nor_generic() -> None:
    problems = {
        "态度",
        "态度差",
        "出警慢",
        "太慢",
        "推诿",
        "没人接",
        "电话",
        "不耐烦",
        "记录仪",
        "插队",
        "辅警",
        "窗口",
    }
    assert not problems & (stopwords() | generic_words())
