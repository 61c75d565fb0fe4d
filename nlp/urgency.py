"""Urgency / risk screen: threats, self-harm, violence, domestic violence, integrity, escalation.

A missed threat or suicide hint costs far more than a handler reading one more flag, so
the screen is tuned for recall: plain regular expressions from ``urgency_rules.json``
(data an administrator can extend), each flag carrying the exact matched text so a
handler sees why it fired. The only suppressions are explicit ``unless`` phrases that
cover a match and reverse its meaning (拒收红包 is praise, 打电话 is not violence).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

URGENCY_KINDS = ("threat", "self_harm", "violence", "domestic_violence", "integrity", "escalation")


@dataclass(frozen=True)
class UrgencyFlag:
    """One reason a comment needs a person's attention now."""

    kind: str
    label: str
    evidence: str


@dataclass(frozen=True)
class _UrgencyRule:
    kind: str
    label: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None


class UrgencyScreen:
    """Applies the urgency rules; at most one flag per kind, the first match as evidence."""

    def __init__(self, rules: dict[str, object], version: str) -> None:
        self.version = version
        compiled: list[_UrgencyRule] = []
        for kind, spec in rules.items():
            if not isinstance(spec, dict):
                raise TypeError(f"urgency rule {kind!r} must be an object")
            patterns = [str(p) for p in spec.get("patterns", [])]
            unless = [str(p) for p in spec.get("unless", [])]
            if not patterns:
                continue
            compiled.append(
                _UrgencyRule(
                    kind=kind,
                    label=str(spec.get("label", kind)),
                    pattern=re.compile("|".join(f"(?:{p})" for p in patterns)),
                    unless=re.compile("|".join(f"(?:{p})" for p in unless)) if unless else None,
                )
            )
        self._rules = tuple(compiled)

    def screen(self, text: str) -> tuple[UrgencyFlag, ...]:
        """Return the flags raised by an already normalised ``text``."""
        flags: list[UrgencyFlag] = []
        for rule in self._rules:
            evidence = self._first_match(rule, text)
            if evidence is not None:
                flags.append(UrgencyFlag(kind=rule.kind, label=rule.label, evidence=evidence))
        return tuple(flags)

    @staticmethod
    def _first_match(rule: _UrgencyRule, text: str) -> str | None:
        covered: list[tuple[int, int]] = []
        if rule.unless is not None:
            covered = [m.span() for m in rule.unless.finditer(text)]
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if any(c_start <= start and end <= c_end for c_start, c_end in covered):
                continue
            return match.group(0)
        return None


def load_urgency_screen(path: str | Path | None = None) -> UrgencyScreen:
    """Build the screen from a rules JSON file; ``None`` reads the shipped rules."""
    if path is None:
        raw = resources.files("nlp.resources").joinpath("urgency_rules.json").read_text("utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    data = json.loads(raw)
    kinds = data.get("kinds")
    if not isinstance(kinds, dict):
        raise TypeError("urgency rules need a 'kinds' object")
    return UrgencyScreen(kinds, version=str(data.get("version", "0")))


@functools.cache
def default_urgency_screen() -> UrgencyScreen:
    """The shipped urgency screen, compiled once per process."""
    return load_urgency_screen()
