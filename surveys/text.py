r"""Text from outside (citizens' forms and SMS, staff notes, the case system), made storable.

PostgreSQL refuses NUL; lone UTF-16 surrogates (a JSON ``"\ud800"`` escape makes one)
cannot be encoded as UTF-8 at all; other control characters are invisible to whoever
reads the text later. Each intake decides whether to refuse such text with a message or,
where nobody can be asked to correct it, to drop the characters.
"""

from __future__ import annotations

import re

#: Control characters other than line feed and tab.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")
#: What a one-line field (a case number, a unit code) must not contain.
NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def without_control_characters(text: str) -> str:
    """``text`` with line breaks as LF and no other control characters (tabs stay)."""
    return CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def storable_text(text: str) -> str:
    """``text`` with line breaks as LF and without control characters or lone surrogates."""
    return LONE_SURROGATES.sub("", without_control_characters(text))
