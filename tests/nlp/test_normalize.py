"""Normalisation: script, width and whitespace folded; emoji kept."""

from __future__ import annotations

import pytest

from nlp.normalize import normalize_text, to_simplified, to_traditional


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("態度很差，愛理不理的", "态度很差,爱理不理的"),
        ("民警處理得很專業", "民警处理得很专业"),
        ("ＡＢＣ１２３！", "ABC123!"),
        ("  出警\t太慢\n了  ", "出警 太慢 了"),
        ("谢谢👍👍", "谢谢👍👍"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_simplified_text_is_unchanged() -> None:
    text = "派出所民警出警及时，处理结果满意"
    assert normalize_text(text) == text.replace("，", ",")


@pytest.mark.parametrize(
    ("simplified", "traditional"), [("电动车被盗", "電動車被盜"), ("噪音扰民", "噪音擾民"), ("民警", "民警"), ("", "")]
)
def test_text_converts_to_traditional_and_back(simplified: str, traditional: str) -> None:
    assert to_traditional(simplified) == traditional
    assert to_simplified(traditional) == simplified


def test_lone_surrogates_are_dropped() -> None:
    # A JSON body can carry "\ud800"; it is no character, and the segmenter refuses it.
    assert normalize_text("民警\ud800态度差\udfff") == "民警态度差"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("這個警察很好", "这个警察很好"),  # single characters only: the str.translate path
        ("軟體", "软件"),  # a phrase key, not 软体 character by character
        ("這個軟體不好用，警察說", "这个软件不好用,警察说"),  # a phrase among single characters
        ("軟碟機壞了", "软驱坏了"),  # a three-character phrase key
        ("軟碟片壞了", "软碟片坏了"),  # starts like that key but is none: character by character
    ],
)
def test_phrases_win_over_their_characters(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("态\u200b度\u200b恶\u200b劣", "态度恶劣"),
        ("\ufeff出警很快\u2060", "出警很快"),
        ("民警\u00ad同志\u200e辛苦了", "民警同志辛苦了"),
        ("🤷\u200d♂️", "🤷♂️"),
    ],
)
def test_invisible_format_characters_are_dropped(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我要杀\x07了他", "我要杀了他"),  # a bell inside a word
        ("\x00民警\x1b态度\x7f差\x9b", "民警态度差"),  # NUL, ESC, DEL and a C1 control
        ("出警\r\n太慢\x0b了\x0c", "出警 太慢 了"),  # line breaks and feeds still separate
        ("一\x1c二\x85三", "一 二 三"),  # the separators and NEL are whitespace too
    ],
)
def test_control_characters_are_dropped_and_line_breaks_kept_as_spaces(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
