"""Reading a citizen's SMS: ratings (5 = 非常满意), opt-outs and comments, however they are typed."""

from __future__ import annotations

import pytest

from surveys.reply_parsing import ParsedReply, ReplyKind, parse_reply


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        ("1", 1),
        (" 3 ", 3),
        ("５", 5),  # full-width digit
        ("２", 2),
        ("五", 5),
        ("一", 1),
        ("叁", 3),
        ("非常满意", 5),
        ("满意", 4),
        ("基本满意", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        ("非常满意！", 5),
        ("4分", 4),
        ("5。", 5),
        ("滿意", 4),  # Traditional
        ("非常滿意", 5),
        ("不滿意", 2),
        ("满意😊", 4),  # an emoji right after the rating
        ("5👍", 5),
        ("5星好评", 5),
        ("五星好评", 5),
    ],
)
def test_ratings(text: str, rating: int):
    assert parse_reply(text) == ParsedReply(ReplyKind.RATING, rating, "")


@pytest.mark.parametrize(
    ("text", "rating", "comment"),
    [
        ("1 出警太慢了", 1, "出警太慢了"),
        ("不满意，等了两个小时", 2, "等了两个小时"),
        ("5\n谢谢民警！", 5, "谢谢民警！"),
        ("滿意，謝謝民警", 4, "謝謝民警"),  # the comment keeps the citizen's own characters
    ],
)
def test_a_rating_may_carry_a_comment_after_a_separator(text: str, rating: int, comment: str):
    assert parse_reply(text) == ParsedReply(ReplyKind.RATING, rating, comment)


@pytest.mark.parametrize(
    "text",
    [
        *("TD", "td", "T", "N", "n", "退订", "退订。", "STOP", "Stop", "ＴＤ", " TD退订 "),
        # A request to unsubscribe in other words, or in Traditional characters.
        *("请退订", "我要退订", "退订，谢谢", "回复TD退订", "退訂", "取消订阅", "为什么不能退订"),
    ],
)
def test_opt_out_words(text: str):
    assert parse_reply(text).kind is ReplyKind.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "1个小时才来人",  # a number inside a sentence is not a rating
        "满意度很低",
        "10",
        "0",
        "6",
        "不要退订我",
        "我不会退订的",
        "-1",  # not a rating of 1
        "4.5",  # not a 4 followed by a comment "5"
        "No",
        "民警态度很好，谢谢",
        "满意？呵呵",  # a question back, not an answer
        "满意?",
        "5？什么意思",
        "满意个锤子",  # sarcasm: no rating word stands alone
        "满意才怪",
    ],
)
def test_everything_else_is_a_comment_in_the_citizens_own_words(text: str):
    assert parse_reply(text) == ParsedReply(ReplyKind.COMMENT, None, text)


@pytest.mark.parametrize("text", ["", "   ", "。。", "\n"])
def test_an_empty_reply_is_nothing(text: str):
    assert parse_reply(text).kind is ReplyKind.EMPTY
