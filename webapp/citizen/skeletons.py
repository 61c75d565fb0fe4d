"""A page rendered once with a marker in each of its slots, filled in per request.

The clean survey page (the questions, nothing answered yet) is the same for every survey
of a question set but for a handful of values: the token in its two URLs and the matter's
kind, unit and date. Rendering it through Jinja was most of the page's own CPU on the
busiest path of the system (docs/survey.md). Rendered once with a marker in each slot,
it is kept as the text between the slots; a request joins the pieces with its own values,
escaped as the template's autoescaping escapes them, which gives the same bytes (a test
renders both ways and compares).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import escape

#: Brackets a slot's name in the rendered page: a private-use character, which neither
#: autoescaping nor URL building changes, and which no template or value holds.
MARK = "\ue000"


def slot(name: str) -> str:
    """The value to render in place of ``name``'s slot."""
    return f"{MARK}{name}{MARK}"


@dataclass(frozen=True)
class Skeleton:
    """A rendered page cut at its slots: text, slot name, text, …, text."""

    pieces: tuple[str, ...]

    @classmethod
    def cut(cls, rendered: str) -> Skeleton:
        """The skeleton of a page rendered with :func:`slot` values."""
        pieces = tuple(rendered.split(MARK))
        if len(pieces) % 2 == 0:
            raise ValueError("a slot marker without its pair: the page holds a stray marker")
        return cls(pieces)

    @property
    def slots(self) -> frozenset[str]:
        """The names of the slots, each filled wherever it occurs."""
        return frozenset(self.pieces[1::2])

    def fill(self, values: Mapping[str, object]) -> str:
        """The page with each slot's value escaped as autoescaping would; every slot needs a value."""
        pieces = list(self.pieces)
        for i in range(1, len(pieces), 2):
            pieces[i] = escape(values[pieces[i]])
        return "".join(pieces)
