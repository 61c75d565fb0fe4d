"""Text normalisation applied before every other step.

Citizens type on whatever phone they have: Traditional characters (Hong Kong/Taiwan input
methods, older relatives), full-width Latin letters and digits, stray spaces and line
breaks. The models and lexicons are written in Simplified Chinese with half-width ASCII,
so everything is folded to that form first. Emoji are kept on purpose: they carry
sentiment (the lexicon scores the common ones).
"""

from __future__ import annotations

import functools
import json
import re

from nlp.longest_match import LongestMatch
from nlp.package_data import package_file

_WHITESPACE = re.compile(r"\s+")

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; U+3000 is the
# ideographic space. NFKC would also do this but rewrites far more (circled digits,
# ligatures, compatibility ideographs), which changes evidence spans shown to handlers.
_FULL_TO_HALF: dict[int, int | None] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20
# Lone surrogates are not characters (JSON's "\ud800" escapes can produce them); the
# segmenter, written in Rust, refuses them, and they mean nothing: dropped.
_FULL_TO_HALF.update(dict.fromkeys(range(0xD800, 0xE000)))
# Invisible format characters (Unicode category Cf: zero-width space and joiners, soft
# hyphen, word joiner, byte-order mark, direction marks, tag characters): pasted text and
# some input methods put them inside words, where they hide 态度恶劣 from the lexicon and
# a threat from the urgency rules. Dropped; an emoji joined by U+200D becomes its parts.
_FORMAT_CHARACTERS = (
    0x00AD,
    0x061C,
    0x180E,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x2070),
    0xFEFF,
    *range(0xFFF9, 0xFFFC),
    *range(0xE0001, 0xE0002),
    *range(0xE0020, 0xE0080),
)
_FULL_TO_HALF.update(dict.fromkeys(_FORMAT_CHARACTERS))
# Control characters (C0, DEL, C1) that are not whitespace: a bell or escape pasted into
# a comment or sent through an API splits a word as a zero-width space does (我要杀\x07了他
# would hide a threat from the rules), and no reader sees them. Dropped. Those that
# separate text (tab, line feed, vertical tab, form feed, carriage return, the file,
# group, record and unit separators \x1c-\x1f and NEL \x85) are whitespace to ``\s`` and
# become one space below, so the words on either side stay apart.
_CONTROL_CHARACTERS = [code for code in (*range(0x20), *range(0x7F, 0xA0)) if not chr(code).isspace()]
_FULL_TO_HALF.update(dict.fromkeys(_CONTROL_CHARACTERS))


class _ScriptConverter:
    """Longest-match converter between Traditional and Simplified built on zhconv's tables.

    zhconv's own loader leaves a file handle open (a ResourceWarning under pytest's
    ``-W error``) and keeps module-global state, so the tables are read here once with a
    closed file and the conversion is done locally.
    """

    def __init__(self, mapping: dict[str, str]) -> None:
        self._table = LongestMatch(mapping)

    def convert(self, text: str) -> str:
        """Return ``text`` converted (unchanged text is returned as is)."""
        table = self._table
        if table.first_chars.isdisjoint(text):
            return text
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            size, replacement = table.longest(text, i)
            if replacement is None:
                out.append(text[i])
                i += 1
            else:
                out.append(replacement)
                i += size
        return "".join(out)


@functools.cache
def _converter(*variants: str) -> _ScriptConverter:
    """The converter of zhconv's tables ``variants`` (later ones win), loaded once per process."""
    table_file = package_file("zhconv", "zhcdict.json", needed_for="Traditional and Simplified conversion")
    with table_file.open("rb") as handle:
        tables = json.load(handle)
    mapping: dict[str, str] = {}
    for variant in variants:
        mapping.update(tables[variant])
    # Identity entries only slow the scan down.
    return _ScriptConverter({key: value for key, value in mapping.items() if key != value})


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (mainland usage)."""
    return _converter("zh2Hans", "zh2CN").convert(text)


def to_traditional(text: str) -> str:
    """Convert Simplified Chinese characters to Traditional (the common forms, not a region's).

    Not the inverse of :func:`to_simplified`: one Simplified character can stand for
    several Traditional ones (发: 發, 髮), and this picks the usual one.
    """
    return _converter("zh2Hant").convert(text)


def normalize_text(text: str) -> str:
    """Fold ``text`` into the form every model and lexicon expects.

    Traditional to Simplified, full-width to half-width, invisible format and control
    characters dropped, whitespace runs (line breaks included) collapsed to one space and stripped. Emoji and Chinese
    punctuation (。，、) are kept: the first carries sentiment, the second marks clause
    boundaries for negation scope.
    """
    text = text.translate(_FULL_TO_HALF)
    text = _WHITESPACE.sub(" ", text).strip()
    return to_simplified(text)
