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
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.linear import LinearTextModel, ModelInput

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
    # The same alternatives split in two (see _screening_patterns): the rule can match
    # only where one of these does.
    screening: tuple[re.Pattern[str], ...]


# Characters that give a pattern's first character a meaning other than itself.
_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()")


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _screening_patterns(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    """The alternatives as two patterns whose union matches exactly where all of them do.

    Python's ``re`` tries every alternative at every position of a text unless each
    alternative starts with a plain character; then it jumps to the positions holding
    one of those first characters, some fifty times faster. Most rules start with a
    character (杀了, 跳楼); the rest (a group, a class) go into a second, slower pattern.
    A text that neither pattern matches cannot match the rule, which is the usual case
    and needs no further work; otherwise the rule itself runs. Which group a pattern
    lands in only affects speed: the two together are the same alternatives.
    """
    plain_start = [p for p in patterns if p[:1] not in _REGEX_SYNTAX and p[1:2] not in ("?", "*", "+", "{")]
    other = [p for p in patterns if p not in plain_start]
    return tuple(_alternation(group) for group in (plain_start, other) if group)


class UrgencyScreen:
    """Applies the urgency rules; at most one flag per kind, the first match as evidence."""

    def __init__(self, rules: dict[str, object], version: str) -> None:
        """Compile ``rules`` (kind -> label, patterns, unless) once."""
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
                    pattern=_alternation(patterns),
                    unless=_alternation(unless) if unless else None,
                    screening=_screening_patterns(patterns),
                )
            )
        self._rules = tuple(compiled)
        self.labels = {rule.kind: rule.label for rule in compiled}

    def screen(self, text: str) -> tuple[UrgencyFlag, ...]:
        """Return the flags raised by an already normalised ``text``.

        A rule that finds nothing is tried once more on the text with the spaces between
        two Chinese characters taken out: an SMS wrapped mid-sentence or a comment typed
        with spaces (我知道你家 住哪里) must not hide a threat. Recall matters more here;
        the evidence is then quoted without those spaces.
        """
        joined = _SPACE_IN_CHINESE.sub("", text) if " " in text else text
        flags: list[UrgencyFlag] = []
        for rule in self._rules:
            evidence = self._first_match(rule, text)
            if evidence is None and joined is not text:
                evidence = self._first_match(rule, joined)
            if evidence is not None:
                flags.append(UrgencyFlag(kind=rule.kind, label=rule.label, evidence=evidence))
        return tuple(flags)

    @staticmethod
    def _first_match(rule: _UrgencyRule, text: str) -> str | None:
        if not any(pattern.search(text) for pattern in rule.screening):
            return None
        covered: list[tuple[int, int]] | None = None
        for match in rule.pattern.finditer(text):
            if covered is None:  # the suppressions are scanned only when a pattern matched
                covered = [m.span() for m in rule.unless.finditer(text)] if rule.unless is not None else []
            start, end = match.span()
            if any(c_start <= start and end <= c_end for c_start, c_end in covered):
                continue
            return match.group(0)
        return None


_SPACE_IN_CHINESE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
_CLAUSE_SPLIT = re.compile(r"[,.!?;:~。，、！？；：～…\n]+")
MODEL_LABEL_SUFFIX = "（模型）"


class UrgencyNet:
    """A learned recall net behind the rules: flags what no rule matched.

    Rules miss new wording (我知道你住哪, 让他横着出去); a classifier over character
    n-grams trained on urgent comments generalises a little further. Its flags say they
    come from the model and quote, as evidence, the clause the model finds most urgent.
    """

    def __init__(self, model: LinearTextModel, labels: dict[str, str]) -> None:
        """Wrap ``model`` (classes ``0`` plus kinds); ``labels`` name the kinds."""
        self.model = model
        self.labels = labels
        self.threshold = float(model.metadata.get("threshold", 0.5))
        self.version = model.version

    def urgency(self, features: ModelInput) -> tuple[float, str]:
        """Return P(urgent) and the most likely kind."""
        probabilities = self.model.predict_proba(features)
        kinds = {kind: p for kind, p in probabilities.items() if kind != "0"}
        kind = max(kinds, key=kinds.__getitem__)
        return 1.0 - probabilities.get("0", 0.0), kind

    def flag(self, text: str, features: ModelInput, features_of: Callable[[str], ModelInput]) -> UrgencyFlag | None:
        """Flag ``text`` when the model finds it urgent; ``features_of`` scores one clause."""
        probability, kind = self.urgency(features)
        if probability < self.threshold:
            return None
        clauses = [clause for clause in _CLAUSE_SPLIT.split(text) if clause.strip()]
        evidence = text
        if len(clauses) > 1:
            evidence = max(clauses, key=lambda clause: self.urgency(features_of(clause))[0])
        label = self.labels.get(kind, kind) + MODEL_LABEL_SUFFIX
        return UrgencyFlag(kind=kind, label=label, evidence=evidence.strip())


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
    """Return the shipped urgency screen, compiled once per process."""
    return load_urgency_screen()
