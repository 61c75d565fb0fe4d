"""The longest-key lookup shared by the Traditional converter and the lexicon scan."""

from __future__ import annotations

from nlp.longest_match import LongestMatch

TABLE = LongestMatch({"不": 1, "不满": 2, "不满意": 3, "满意": 4})


def test_the_longest_key_at_a_position_wins() -> None:
    assert TABLE.longest("很不满意", 1) == (3, 3)
    assert TABLE.longest("很不满意", 2) == (2, 4)


def test_a_limit_shortens_the_match() -> None:
    assert TABLE.longest("不满意", 0, 2) == (2, 2)


def test_the_end_of_the_text_is_respected() -> None:
    # 不满 at the end is 不满, not a clipped slice of 不满意 taken for it.
    assert TABLE.longest("很不满", 1) == (2, 2)


def test_no_key_at_a_position() -> None:
    assert TABLE.longest("很好", 0) == (0, None)
    assert TABLE.first_chars == frozenset("不满")
