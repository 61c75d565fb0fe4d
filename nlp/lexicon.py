"""Rule-based sentiment from a lexicon, with negation scope, degree and contrast.

This is both the cold-start sentiment engine and a feature source for the learned model:
character n-grams alone cannot tell 没有不满意 (double negation, mildly positive) from
不满意, nor weigh the clause after 但是 more than the one before it. Terms are matched on
characters with longest match, not on jieba words, so compounds such as 态度恶劣 or 不太满意
are found whatever the segmenter does with them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
import string
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from nlp.longest_match import LongestMatch

# Clause boundaries end a negation scope; both half- and full-width forms appear after
# normalisation (it folds full-width ASCII punctuation but not 。、).
CLAUSE_BREAKS: Final = frozenset(",.!?;:~\n 。，、！？；：～…")
# A negator or degree word further than this many characters before a sentiment term
# does not modify it (没有想到…热情 is handled by the skip list; this is the fallback).
_SCOPE_CHARS: Final = 4
# Negating a negative term gives a weaker positive than the plain positive term
# (态度不差 is faint praise); negating a positive term is nearly as strong as its
# opposite (不满意).
_NEGATED_NEGATIVE: Final = 0.5
_NEGATED_POSITIVE: Final = 0.9
# A negation reaches a second term of the same polarity this close after the first.
_CARRY_CHARS: Final = 2
_AFTER_CONTRAST: Final = 1.5
_BEFORE_CONTRAST: Final = 0.6
# |score| below this is neutral in the rule engine.
NEUTRAL_BAND: Final = 0.45
# Replies the rules decide alone (see ``LexiconResult.reply``): a score given in words
# and at most this many other characters, neutral within ±RATING_BAND ...
MAX_RATING_REPLY: Final = 8
RATING_BAND: Final = 0.25
# ... and replies of at most this many characters whose lexicon score is this clear.
MAX_SHORT_REPLY: Final = 4
SHORT_REPLY_SCORE: Final = 0.7

_KIND_POS: Final = "pos"
_KIND_NEG: Final = "neg"
_KIND_NEGATOR: Final = "negator"
_KIND_DEGREE: Final = "degree"
_KIND_SKIP: Final = "skip"
_KIND_CONTRAST: Final = "contrast"
_KIND_REJECTION: Final = "rejection"
_SENTIMENT: Final = frozenset((_KIND_POS, _KIND_NEG, _KIND_REJECTION))


@dataclass(frozen=True)
class SentimentLexicon:
    """Term tables for the rule engine, loaded from ``sentiment_lexicon.json``."""

    positive: dict[str, float]
    negative: dict[str, float]
    negators: dict[str, float]
    degree: dict[str, float]
    skip: frozenset[str]
    contrast: frozenset[str]
    neutral_replies: frozenset[str]
    question_markers: tuple[str, ...] = ()
    suggestion_markers: tuple[str, ...] = ()
    # Irony markers (呵呵, 佩服佩服, 效率感人, 堪比蜗牛): with praise words in the same
    # comment they usually mean the opposite.
    sarcasm_markers: tuple[str, ...] = ()
    # Scornful retorts after a word (满意个锤子, 好个屁, 满意才怪, 送达个屁): negative in
    # themselves, and the praise word right before one means its opposite.
    rejections: dict[str, float] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SentimentLexicon:
        """Build the lexicon from its JSON form (see ``nlp/resources/sentiment_lexicon.json``)."""

        def weights(key: str) -> dict[str, float]:
            raw = data.get(key, {})
            if not isinstance(raw, dict):
                raise TypeError(f"lexicon section {key!r} must be an object")
            return {str(word): float(value) for word, value in raw.items()}

        def words(key: str) -> frozenset[str]:
            raw = data.get(key, [])
            if not isinstance(raw, list):
                raise TypeError(f"lexicon section {key!r} must be a list")
            return frozenset(str(word) for word in raw)

        return cls(
            positive=weights("positive"),
            negative=weights("negative"),
            negators=weights("negators"),
            degree=weights("degree"),
            skip=words("skip"),
            contrast=words("contrast"),
            neutral_replies=words("neutral_replies"),
            question_markers=tuple(sorted(words("question_markers"))),
            suggestion_markers=tuple(sorted(words("suggestion_markers"))),
            sarcasm_markers=tuple(sorted(words("sarcasm_markers"))),
            rejections=weights("rejections"),
        )

    @property
    def fingerprint(self) -> str:
        """Short hash of every table; part of an analysis's model version.

        The lexicon scores comments alongside the models, so an edited lexicon changes
        analyses even before the models are retrained on it; the version must say so.
        """
        payload = json.dumps(
            {
                name: sorted(value) if isinstance(value, frozenset) else value
                for name, value in dataclasses.asdict(self).items()
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]


class _PunctuationTable(dict[int, str | None]):
    """A ``str.translate`` table that deletes clause breaks and punctuation.

    Each code point is classified once, on first sight, and remembered, so stripping a
    comment runs in C after warm-up rather than one ``unicodedata`` call per character.
    """

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        drop = char in CLAUSE_BREAKS or unicodedata.category(char).startswith("P")
        value = None if drop else char
        self[code] = value
        return value


_DROP_PUNCTUATION: Final = _PunctuationTable()
_ASCII_LOWER: Final = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STARS: Final = frozenset("⭐🌟★")
# 5分, 打了60分, 给个10分吧: a number of points, read on the scale it implies.
# A deduction of points (扣了12分) is a traffic penalty, not a score.
# 给三分面子 and 给点颜色 are idioms, not scores.
_NOT_A_SCORE_AFTER: Final = "钟|局|队|之|析|别|开|配|享|类|手|期|钱|多钟|半钟|百|制|面子|薄面|颜色"
_RATING: Final = re.compile(rf"(?<![\d.])(?<!扣)(?<!扣了)(\d{{1,3}})\s*分(?!{_NOT_A_SCORE_AFTER})")
# 五分, 给零分, 打一百分: the same in Chinese numerals, but only where it is plainly a
# score, because 分 in Chinese numerals is as often a cent (一分没花, 一分价钱一分货), a
# clock time (两点十分), a call's length (打了一分多钟) or a typo for 份 (三分饺子): after
# 给, 打, 评, 值, 评分 or a 全 that ends no word (给了个五分, 全五分好评; not 安全十分重要), or
# at the start of a clause with no word after it (五分, 服务很好，五分吧, 零分，菜里有虫,
# 五分好评). 十分 before a word is "very" (十分满意, 给了十分详细的解释).
_CHINESE_RATING: Final = re.compile(
    r"(?P<given>(?:评分|打分|给|打|评|值|(?<![\u4e00-\u9fff])全)(?:了个|了|个|你们|你|他们|他|她们|她|您)?"
    r"(?:民警|警察|警官|辅警|派出所|窗口|工作人员|同志)?)?"
    rf"(?P<points>[零〇一二两三四五六七八九十]{{1,3}}|[一两二]?百)分(?!{_NOT_A_SCORE_AFTER})"
)
_CHINESE_DIGITS: Final = {digit: value for value, digit in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CJK_WORD_CHAR: Final = re.compile(r"[\u4e00-\u9fff]")
#: What may follow a score given at the start of a clause (五分吧, 五分好评, 零分都嫌多).
_AFTER_REPLY_SCORE: Final = ("吧", "啊", "呀", "哦", "了", "呢", "嘛", "好评", "差评", "满分", "都")
#: What may come right before a score that starts a clause (after the text's start).
_CLAUSE_STARTS: Final = frozenset(",.!?;:~ 。，、！？；：～…")


#: 满分十分, 满分是100分, 十分制, 百分制: the scale a score is given on, said in words. The
#: declaration is no score itself; the score elsewhere in the text is read on it.
_SCALE: Final = re.compile(
    r"满分(?:是|为)?\s*(?P<top>\d{1,3}|[一二两三四五六七八九十]{1,3}|[一两二]?百)\s*分"
    r"|(?P<system>\d{1,3}|[一二两三四五六七八九十]{1,3}|百)\s*分制"
)


def rating_of(text: str) -> float | None:
    """A score given in words, in [-1, 1]: 0–5 points, 0–10 or 0–100, or a row of stars.

    ``5分`` (of 5), ``10分`` and ``100分`` are the top, ``3分`` and ``60分`` the middle
    (the corpus's conventions: a pass mark is neutral). Minutes (5分钟) are not scores.
    The scale is the one the citizen names (满分十分，给五分; 十分制) or else the one the
    number implies; a range (七八分) counts as its middle.
    """
    stars = sum(text.count(star) for star in _STARS) if not _STARS.isdisjoint(text) else 0
    if stars:
        return max(-1.0, min(1.0, (min(stars, 5) - 3) / 2))
    scale, text = _declared_scale(text)
    match = _RATING.search(text)
    points = float(match.group(1)) if match is not None else _chinese_points(text)
    if points is None:
        return None
    if scale is None:
        scale = 5 if points <= 5 else 10 if points <= 10 else 100
    if scale <= 5:
        value = (points * 5 / scale - 3) / 2
    elif scale <= 10:
        value = (points * 10 / scale - 6.5) / 3.5
    else:
        value = (points * 100 / scale - 60) / 40
    return max(-1.0, min(1.0, value))


def _declared_scale(text: str) -> tuple[int | None, str]:
    """The scale named in ``text`` (满分十分 → 10) and the text without that declaration."""
    for match in _SCALE.finditer(text):
        if match.group("top") is not None and _word_goes_on(text, match.end()):
            continue  # 满分十分满意: full marks, "very" satisfied
        numeral = match.group("top") or match.group("system")
        scale = int(numeral) if numeral.isdigit() else _chinese_number(numeral)
        if scale:
            return int(scale), f"{text[: match.start()]}，{text[match.end() :]}"
    return None, text


def _chinese_points(text: str) -> float | None:
    """The first score in Chinese numerals (给五分, 零分, 打一百分, 七八分) in ``text``, or None."""
    for match in _CHINESE_RATING.finditer(text):
        if not match.group("given"):
            start = match.start()
            if start and text[start - 1] not in _CLAUSE_STARTS:
                continue  # inside a clause: 一分, 两分 of something else
            if _word_goes_on(text, match.end()):
                continue  # 十分满意, 五分局
        elif match.group("points") == "十" and _word_goes_on(text, match.end()):
            continue  # 给了十分详细的解释: "very"
        points = _chinese_number(match.group("points"))
        if points is not None:
            return points
    return None


def _word_goes_on(text: str, end: int) -> bool:
    """Whether a Chinese word continues at ``end``, other than a particle or 好评 after a score."""
    return bool(_CJK_WORD_CHAR.match(text, end)) and not text.startswith(_AFTER_REPLY_SCORE, end)


def _chinese_number(numeral: str) -> float | None:
    """零 to 两百 in Chinese numerals (五, 十五, 六十, 一百), a range of two (七八 → 7.5), or None."""
    if numeral.endswith("百"):
        return 200.0 if numeral[:1] in ("两", "二") else 100.0
    if "十" not in numeral:
        if len(numeral) == 1:
            return float(_CHINESE_DIGITS[numeral])
        if len(numeral) == 2:  # 七八分, 三四分: a range of two neighbours
            low, high = _CHINESE_DIGITS[numeral[0]], _CHINESE_DIGITS[numeral[1]]
            return low + 0.5 if high == low + 1 else None
        return None
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    tens_value = 1 if not tens else _CHINESE_DIGITS[tens]
    ones_value = 0 if not ones else _CHINESE_DIGITS[ones]
    return float(tens_value * 10 + ones_value)


@dataclass(frozen=True)
class _NegationCarry:
    """A negated term whose negation may reach the next one.

    没有嫌我烦, 不推不拖: a negation carries over to a term of the same polarity that
    follows within ``_CARRY_CHARS`` in the same clause.
    """

    positive: bool
    end: int
    clause: int
    strength: float

    def reaches(self, start: int, clause: int, positive: bool) -> bool:
        return positive == self.positive and clause == self.clause and start - self.end <= _CARRY_CHARS


@dataclass(frozen=True)
class LexiconHit:
    """One sentiment term found in a text, after negation and degree were applied."""

    term: str
    start: int
    base: float
    value: float
    negations: int
    clause: int


@dataclass(frozen=True)
class LexiconResult:
    """What the rule engine found in one text."""

    score: float
    hits: tuple[LexiconHit, ...]
    is_neutral_reply: bool
    # Sum of the hits after the last contrast word (但是, 不过 …), None without one.
    after_contrast: float | None = None
    # Progress questions and suggestions are neutral by convention, whatever words
    # they contain (希望再热情一点 is not praise).
    is_question: bool = False
    is_suggestion: bool = False
    is_sarcasm: bool = False
    # A score the citizen gave in words (５分, 打了60分, ⭐⭐⭐), mapped to [-1, 1];
    # None when there is none.
    rating: float | None = None
    # Characters of the text without punctuation and spaces.
    length: int = 0

    @property
    def reply(self) -> tuple[float, str] | None:
        """Probability and label of a reply the rules can read alone, else None.

        Two kinds: a score and little else (５分, 60分吧, ⭐⭐⭐⭐, 好评🌟🌟🌟🌟🌟), read on
        its scale; and a reply of at most four characters with a clear lexicon
        polarity (不好, 孬, 牛, 差评), where n-grams have too little to go on. On the
        police corpus's train part the rules agree with the label on 14 of 14 score
        replies and 106 of 111 short ones (docs/nlp.md).
        """
        if self.is_neutral_reply:
            return None
        if self.rating is not None and self.length <= MAX_RATING_REPLY:
            label = "positive" if self.rating > RATING_BAND else "negative" if self.rating < -RATING_BAND else "neutral"
            return round(0.5 + self.rating / 2, 4), label
        if self.length <= MAX_SHORT_REPLY and self.hits and abs(self.score) >= SHORT_REPLY_SCORE:
            return round(self.probability, 4), self.label
        return None

    @property
    def probability(self) -> float:
        """The rule score squashed into [0, 1] (0.5 = no opinion found)."""
        if self.is_neutral_reply:
            return 0.5
        return 1.0 / (1.0 + math.exp(-1.2 * self.score))

    @property
    def label(self) -> str:
        """Label from the rule score alone: negative, neutral or positive."""
        if self.is_neutral_reply or abs(self.score) < NEUTRAL_BAND:
            return "neutral"
        return "positive" if self.score > 0 else "negative"


class LexiconScorer:
    """Longest-match scanner over the lexicon terms; pure Python, no segmentation needed."""

    def __init__(self, lexicon: SentimentLexicon) -> None:
        """Index every lexicon term by its text for longest-match scanning."""
        self.lexicon = lexicon
        table: dict[str, tuple[str, float]] = {}
        # Later entries win; sentiment terms are added last because they are the most
        # specific (不满意 is a negative term, not negator + 满意).
        for word in lexicon.skip:
            table[word] = (_KIND_SKIP, 0.0)
        for word in lexicon.contrast:
            table[word] = (_KIND_CONTRAST, 0.0)
        for word, value in lexicon.degree.items():
            table[word] = (_KIND_DEGREE, value)
        for word, value in lexicon.negators.items():
            table[word] = (_KIND_NEGATOR, value)
        for word, value in lexicon.positive.items():
            table[word] = (_KIND_POS, value)
        for word, value in lexicon.negative.items():
            table[word] = (_KIND_NEG, -value)
        for word, value in lexicon.rejections.items():
            table[word] = (_KIND_REJECTION, -value)
        self._table = LongestMatch(table)
        # One alternation per marker list instead of a scan per marker (the path is hot).
        self._sarcasm = _any_of(lexicon.sarcasm_markers)
        self._question = _any_of(lexicon.question_markers)
        self._suggestion = _any_of(lexicon.suggestion_markers)

    def _matches(self, text: str) -> list[tuple[int, str, str, float]]:
        """Return (start, term, kind, value) for every longest match, left to right."""
        first_chars = self._table.first_chars
        found: list[tuple[int, str, str, float]] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch in CLAUSE_BREAKS:
                found.append((i, ch, "break", 0.0))
                i += 1
                continue
            if ch in first_chars:
                limit = n - i
                while limit > 0:
                    size, entry = self._table.longest(text, i, limit)
                    if entry is None:
                        i += 1
                        break
                    if (ch.isascii() or text[i + size - 1].isascii()) and _inside_ascii_word(text, i, size):
                        limit = size - 1  # ok in book, bad in badge: try a shorter term
                        continue
                    # A modifier must not swallow the start of a longer sentiment term:
                    # 并没有人联系 is 并 + 没有人联系, 根本没人管 is 根本 + 没人管.
                    cut = self._sentiment_inside(text, i, size) if entry[0] not in _SENTIMENT else 0
                    if cut:
                        limit = cut
                        continue
                    found.append((i, text[i : i + size], entry[0], entry[1]))
                    i += size
                    break
                else:
                    i += 1
            else:
                i += 1
        return found

    def _sentiment_inside(self, text: str, start: int, size: int) -> int:
        """Offset of a sentiment term that starts inside a modifier match and runs past it."""
        end = start + size
        for offset in range(1, size):
            pos = start + offset
            longest, entry = self._table.longest(text, pos)
            if entry is not None and entry[0] in _SENTIMENT and pos + longest > end:
                return offset
        return 0

    def score(self, text: str) -> LexiconResult:
        """Score an already normalised text."""
        stripped = text.translate(_DROP_PUNCTUATION)
        if not stripped or stripped in self.lexicon.neutral_replies:
            return LexiconResult(0.0, (), is_neutral_reply=True)
        # English replies are matched case-blind (Very professional, Please call back);
        # ASCII only, so offsets stay those of ``text``.
        lowered = text.translate(_ASCII_LOWER)
        matches = self._matches(lowered)
        hits: list[LexiconHit] = []
        clause = 0
        contrast_clause = -1
        negations = 0
        negation_strength = 1.0
        degree = 1.0
        degree_before_negation = False
        last_modifier_end = -1
        carry: _NegationCarry | None = None
        for index, (start, term, kind, value) in enumerate(matches):
            if kind == "break":
                clause += 1
                negations, negation_strength, degree = 0, 1.0, 1.0
                degree_before_negation = False
                continue
            if kind == _KIND_CONTRAST:
                contrast_clause = clause
                negations, negation_strength, degree = 0, 1.0, 1.0
                continue
            if kind == _KIND_SKIP:
                continue
            if last_modifier_end >= 0 and start - last_modifier_end > _SCOPE_CHARS:
                negations, negation_strength, degree = 0, 1.0, 1.0
                degree_before_negation = False
            if kind == _KIND_NEGATOR:
                negations += 1
                negation_strength *= value
                degree_before_negation = degree != 1.0
                last_modifier_end = start + len(term)
                continue
            if kind == _KIND_DEGREE:
                degree *= value
                last_modifier_end = start + len(term)
                continue
            if kind == _KIND_REJECTION:
                # 满意个锤子: the praise right before the retort is taken back, as strongly.
                if hits and hits[-1].value > 0 and hits[-1].start + len(hits[-1].term) == start:
                    hits[-1] = dataclasses.replace(hits[-1], value=-hits[-1].value)
                hits.append(LexiconHit(term=term, start=start, base=value, value=value, negations=0, clause=clause))
                carry = None
                negations, negation_strength, degree = 0, 1.0, 1.0
                degree_before_negation = False
                last_modifier_end = -1
                continue
            # 好 directly before another sentiment term is an intensifier (好慢, 好贴心).
            if term == "好" and index + 1 < len(matches):
                nxt = matches[index + 1]
                if nxt[0] == start + 1 and nxt[2] in (_KIND_POS, _KIND_NEG):
                    degree *= 1.5
                    last_modifier_end = start + 1
                    continue
            result = value
            if negations == 0 and carry is not None and carry.reaches(start, clause, value > 0):
                negations, negation_strength = 1, carry.strength
            if negations % 2 == 1:
                factor = _NEGATED_POSITIVE if value > 0 else _NEGATED_NEGATIVE
                # 很不满意 keeps the degree; 不很满意 (negator first) softens instead.
                scale = degree if degree_before_negation else 1.0
                result = -value * factor * negation_strength * scale
            elif negations >= 2:
                result = value * _NEGATED_NEGATIVE * degree
            else:
                result = value * degree
            hits.append(
                LexiconHit(
                    term=term,
                    start=start,
                    base=value,
                    value=result,
                    negations=negations,
                    clause=clause,
                )
            )
            negated = negations % 2 == 1
            carry = _NegationCarry(value > 0, start + len(term), clause, negation_strength) if negated else None
            negations, negation_strength, degree = 0, 1.0, 1.0
            degree_before_negation = False
            last_modifier_end = -1
        total = 0.0
        after: float | None = None if contrast_clause < 0 else 0.0
        for hit in hits:
            weight = 1.0
            if contrast_clause >= 0:
                weight = _AFTER_CONTRAST if hit.clause >= contrast_clause else _BEFORE_CONTRAST
                if hit.clause >= contrast_clause and after is not None:
                    after += hit.value
            total += hit.value * weight
        return LexiconResult(
            total,
            tuple(hits),
            is_neutral_reply=False,
            after_contrast=after,
            is_question=_found(self._question, lowered),
            is_suggestion=_found(self._suggestion, lowered),
            is_sarcasm=_found(self._sarcasm, lowered),
            rating=rating_of(text),
            length=len(stripped),
        )


#: Endings an English term may carry and still be itself (badly, rudeness, slower, thankyou).
#: Not a plural s: all kinds of is no praise.
_ENGLISH_SUFFIX: Final = re.compile(r"(?:ly|ness|er|est|ed|d|ful|fully|you)(?![a-z])")


def _inside_ascii_word(text: str, start: int, size: int) -> bool:
    """Whether ``text[start:start + size]`` begins inside a longer English word or ends inside one.

    Ending inside one is allowed when the rest of the word is a common ending: *bad* is
    found in *badly*, not in *badge*; *ok* is not found in *book*.
    """
    before = text[start - 1] if start else ""
    if _is_ascii_letter(before) and _is_ascii_letter(text[start]):
        return True
    end = start + size
    after = text[end] if end < len(text) else ""
    if _is_ascii_letter(after) and _is_ascii_letter(text[end - 1]):
        return _ENGLISH_SUFFIX.match(text, end) is None
    return False


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _any_of(markers: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression that finds any of ``markers`` (None for no markers)."""
    ordered = sorted(markers, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def _found(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.search(text) is not None


def load_sentiment_lexicon(path: str | Path | None = None) -> SentimentLexicon:
    """Read a sentiment lexicon JSON file; ``None`` reads the shipped one."""
    if path is None:
        raw = resources.files("nlp.resources").joinpath("sentiment_lexicon.json").read_text("utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise TypeError("a sentiment lexicon is a JSON object")
    return SentimentLexicon.from_json(data)


@functools.cache
def default_lexicon_scorer() -> LexiconScorer:
    """Return the scorer over the shipped lexicon, built once per process."""
    return LexiconScorer(load_sentiment_lexicon())
