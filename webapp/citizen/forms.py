"""The survey form as posted by the browser, parsed strictly.

Werkzeug's form parser is lenient on purpose: an invalid percent-escape is kept as
literal text and a body with raw invalid UTF-8 silently becomes an empty form. For the
one form the public can post without logging in we want the opposite: anything that a
real browser rendering our page cannot produce (bad encoding, unknown or repeated
fields, a non-form body) is refused with a clear message and nothing is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from surveys.errors import ValidationError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: A full answer is under 8 KB even with 500 emoji percent-encoded; anything far larger
#: is not from our page.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 64
DIMENSION_PREFIX = "d_"

_SINGLE_FIELDS = ("overall", "comment", "qs")
_REPEATABLE_FIELDS = ("reason",)

FORGED_FORM_MESSAGE = "提交的内容无效，请刷新页面后重新填写"
ENCODING_MESSAGE = "提交的内容包含无法识别的字符，请检查留言后重新提交"
TOO_LARGE_MESSAGE = "提交的内容过长，请删减留言后重新提交"


@dataclass
class SurveyForm:
    """The raw values of one submission (strings, not yet checked against the rules)."""

    overall: str | None = None
    comment: str = ""
    question_set_ref: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def is_reason_checked(self, key: str) -> bool:
        """For re-rendering the page after an error without losing the citizen's ticks."""
        return key in self.reasons


#: A ``%`` that does not start an escape, which ``parse_qsl`` would keep as text.
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_survey_form(body: bytes, content_type: str | None) -> SurveyForm:
    """Decode a urlencoded body as strict UTF-8 into a :class:`SurveyForm`.

    Raises :class:`ValidationError` with field ``encoding`` for bytes that are not UTF-8
    (raw or percent-encoded) and ``form`` for anything else a browser would not send.
    """
    if not body:
        return SurveyForm()  # nothing chosen at all: the rules, not the parser, say what is missing
    if (content_type or "").split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
        raise ValidationError("form", FORGED_FORM_MESSAGE)
    if len(body) > MAX_FORM_BYTES:
        raise ValidationError("form", TOO_LARGE_MESSAGE)
    try:
        text = body.decode("utf-8")
        if _BROKEN_ESCAPE.search(text):  # a browser writes a typed % as %25
            raise ValidationError("form", FORGED_FORM_MESSAGE)
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise ValidationError("encoding", ENCODING_MESSAGE) from exc
    except ValueError as exc:  # more than MAX_FIELDS fields
        raise ValidationError("form", FORGED_FORM_MESSAGE) from exc
    form = SurveyForm()
    seen: set[str] = set()
    for name, value in pairs:
        if name in _SINGLE_FIELDS or name.startswith(DIMENSION_PREFIX):
            if name in seen:
                raise ValidationError("form", FORGED_FORM_MESSAGE)
            seen.add(name)
        if name == "overall":
            form.overall = value
        elif name == "comment":
            form.comment = value
        elif name == "qs":
            form.question_set_ref = value
        elif name in _REPEATABLE_FIELDS:
            form.reasons.append(value)
        elif name.startswith(DIMENSION_PREFIX):
            # An empty value is an unanswered optional dimension, not an answer.
            if value:
                form.dimensions[name.removeprefix(DIMENSION_PREFIX)] = value
        else:
            raise ValidationError("form", FORGED_FORM_MESSAGE)
    return form
