"""What a citizen's SMS reply means: a rating, an opt-out, or a comment.

Pure text handling, no database. Citizens type on whatever keyboard they have, so
full-width digits (５), Chinese numerals (五), the labels themselves (非常满意) and their
Traditional forms (滿意) all count as ratings, with a 分/星, 好评 or emoji right after
(5星好评, 满意😊); TD, T, N, 退订 and STOP (in any case, with any punctuation) opt out,
and so does any reply that asks for 退订 or 取消订阅 without negating it (请退订,
退订，谢谢; not 不要退订). A rating may be followed by a comment ("1 出警太慢"), but only
after a space or punctuation: "1个小时才来人" is a complaint about an hour's wait, not a
rating of 1, and neither -1 nor 4.5 is a rating. Nor is one asked back ("满意？呵呵",
"5？什么意思"): a question is the citizen's comment, for a handler to read, not an answer.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from nlp.normalize import to_simplified
from surveys.answers import RATING_LABELS

#: Opt-out keywords: the domestic carriers' TD/T/N/退订 and Twilio's standard English set.
OPT_OUT_WORDS = ("UNSUBSCRIBE", "STOPALL", "CANCEL", "STOP", "QUIT", "END", "退订", "TD", "T", "N")
_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5}
_FULL_WIDTH_DIGITS = {chr(ord("０") + n): n for n in RATING_LABELS}
#: Separators: whitespace and ASCII and full-width punctuation.
_SEPARATORS = r"\s\.,;:!?~、，．。；：！？～…·\-—'\"“”‘’()（）【】\[\]"
_RATING_TOKENS = (
    {str(n): n for n in RATING_LABELS}
    | _FULL_WIDTH_DIGITS
    | _NUMERALS
    | {label: n for n, label in RATING_LABELS.items()}
)
#: Emoji (and their joiners and variation selectors), allowed right after a rating.
_EMOJI = "\u2600-\u27bf\u2b50\u200d\ufe0f\U0001f300-\U0001faff"
_RATING = re.compile(
    rf"^(?P<token>{'|'.join(sorted(map(re.escape, _RATING_TOKENS), key=len, reverse=True))})"
    rf"(?![.．][0-9０-９])[分星]?(?:好评)?[{_EMOJI}]*"
    rf"(?:(?![?？])[{_SEPARATORS}]+(?P<comment>.*))?$",
    re.DOTALL,
)
_OPT_OUT = re.compile(rf"^(?:{'|'.join(OPT_OUT_WORDS)})+$")
#: A request to unsubscribe inside a longer reply, unless negated just before it.
_OPT_OUT_REQUEST = re.compile(r"(?<![不别勿])(?<!不要)(?<!不想)(?<!不用)(?<!不会)(?:退订|取消订阅)")
_NEGATIVE_NUMBER = re.compile(r"^\s*[-−－]\s*[0-9０-９]")
_SEPARATOR_RUN = re.compile(rf"[{_SEPARATORS}]+")
_LEADING = re.compile(rf"^[{_SEPARATORS}]+")


class ReplyKind(enum.StrEnum):
    """The three things a reply can be (or nothing at all)."""

    RATING = "rating"
    OPT_OUT = "opt_out"
    COMMENT = "comment"
    EMPTY = "empty"


@dataclass(frozen=True)
class ParsedReply:
    """A reply's meaning: the rating (1–5, 5 = 非常满意) and whatever text came with it."""

    kind: ReplyKind
    rating: int | None = None
    comment: str = ""


def parse_reply(text: str) -> ParsedReply:
    """Classify one SMS body; comments keep the citizen's own characters and punctuation."""
    compact = _SEPARATOR_RUN.sub("", to_simplified(unicodedata.normalize("NFKC", text or ""))).upper()
    if not compact:
        return ParsedReply(ReplyKind.EMPTY)
    if _OPT_OUT.fullmatch(compact) or _OPT_OUT_REQUEST.search(compact):
        return ParsedReply(ReplyKind.OPT_OUT)
    stripped = text.strip()
    if not _NEGATIVE_NUMBER.match(stripped):
        reply = _LEADING.sub("", stripped)
        simplified = to_simplified(reply)
        match = _RATING.match(simplified)
        if match:
            # The comment in the citizen's own characters where the conversion kept the length.
            source = reply if len(reply) == len(simplified) else simplified
            comment = source[match.start("comment") :].strip() if match.group("comment") else ""
            return ParsedReply(ReplyKind.RATING, _RATING_TOKENS[match.group("token")], comment)
    return ParsedReply(ReplyKind.COMMENT, comment=stripped)
