"""A dictionary read by the longest key that starts at a position of a text.

The Traditional-to-Simplified converter and the lexicon scan both walk a comment and,
at each character, want the longest table entry starting there. Trying every length
from the longest key down costs a slice and a lookup each; most characters start keys
of one or two lengths, so the table keeps, per first character, just those lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

V = TypeVar("V")


class LongestMatch(Generic[V]):
    """``entries`` looked up by the longest key at a position."""

    def __init__(self, entries: Mapping[str, V]) -> None:
        """Index ``entries`` (non-empty keys) by first character."""
        self._entries = dict(entries)
        lengths: dict[str, set[int]] = {}
        for key in self._entries:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {first: sorted(sizes, reverse=True) for first, sizes in lengths.items()}
        #: The characters some key starts with (a text with none of them matches nothing).
        self.first_chars = frozenset(self._lengths)

    def longest(self, text: str, start: int, limit: int | None = None) -> tuple[int, V | None]:
        """The length and value of the longest key at ``start``, at most ``limit`` long; (0, None) if none."""
        room = len(text) - start
        limit = room if limit is None else min(limit, room)
        entries = self._entries
        for size in self._lengths.get(text[start], ()):
            if size <= limit:
                value = entries.get(text[start : start + size])
                if value is not None:
                    return size, value
        return 0, None
