"""Keywords of a comment, themes of many, and near-duplicate grouping."""

from __future__ import annotations

from nlp.grouping import group_similar
from nlp.keywords import comment_keywords, top_keywords
from nlp.tokenizer import segment, stopwords


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


def test_group_similar_empty() -> None:
    assert group_similar([]) == []


def test_english_function_words_are_not_themes() -> None:
    words = [w for w, _ in top_keywords(["The officer at the counter was rude to me", "APP预约不了，APP一直报错"])]
    assert "the" not in words
    assert "at" not in words
    assert "APP" in words
