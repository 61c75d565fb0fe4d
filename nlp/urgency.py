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

from nlp.features import LEXICON_BLOCK, SPARSE_BLOCKS

if TYPE_CHECKING:
    from nlp.features import Features
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

    def unless_spans(self, text: str) -> list[tuple[int, int]]:
        """The stretches of ``text`` that some rule's ``unless`` phrases cover, merged.

        The rules' own reading: each kind's phrases are found as that kind's rule finds
        them (leftmost, without overlaps), and the kinds' spans are then united.
        """
        spans = sorted(
            match.span()
            for rule in self._rules
            if rule.unless is not None
            for match in rule.unless.finditer(text)
            if match.end() > match.start()
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged


_SPACE_IN_CHINESE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
_CLAUSE_SPLIT = re.compile(r"[,.!?;:~。，、！？；：～…\n]+")
MODEL_LABEL_SUFFIX = "（模型）"
#: The fewest letters and digits (Chinese characters included) a comment needs before the
#: net may flag it: below that the rules speak alone (see :class:`UrgencyNet`).
NET_MIN_CHARS = 10
#: How the net reads a comment, before its model's version in the analysis version:
#: counting out the rules' unless phrases, on comments of ``NET_MIN_CHARS`` or more.
NET_READING = f"unless-min{NET_MIN_CHARS}"


class UrgencyNet:
    """A learned recall net behind the rules: flags what no rule matched.

    Rules miss new wording (我知道你住哪, 让他横着出去); a classifier over character
    n-grams trained on urgent comments generalises a little further. Its flags say they
    come from the model and quote, as evidence, the clause the model finds most urgent.

    The net must not overrule what the rules know is harmless. Their ``unless``
    phrases (拒收红包, 没收任何费用, 打电话, 推荐, 问到派出所门口 …) are wordings the
    rules' authors declared not urgent although they hold an alarming word, and n-grams
    cannot tell 拒收红包 from 收红包: the net, trained on whole comments, flagged
    红包他们坚决不收 as an integrity report. So when the net finds a comment urgent and
    an ``unless`` phrase covers part of it, the comment is scored again from the
    n-grams of the stretches outside the phrases alone (each stretch on its own, so no
    n-gram touches a covered character), weighed as they weigh in the whole comment
    (:meth:`LinearTextModel.decision_within`). The flag stands only if that reaches the
    threshold too, and then takes its kind and evidence from those stretches. Why this
    reading and not another:

    - Cutting the phrases out and scoring what is left *as a comment of its own* would
      let a remnant speak louder than it did, since each feature block is scaled to unit
      length: the net finds a bare 民警 or 交警 urgent (0.57, 0.64), so 民警拒收红包
      would still be flagged, quoting 民警. Weighed inside the comment, 民警 carries 0.11.
    - Dropping the flags whose evidence lies inside a phrase is not enough: the
      evidence is a whole clause, and the covered words can drive the score while the
      quoted clause lies mostly outside (事后想给民警包个红包，他们坚决不收).
    - The phrases of every kind are counted out, not only those of the kind the net
      predicts: its kind is a guess that often crosses kinds (民警推荐的 came out as
      integrity, 推荐 being a violence phrase; 打我一个措手不及 as domestic violence),
      while each phrase is harmless whatever kind it was written for.
    - As in the rules, a phrase only ever takes a flag away: the second score is taken
      only when the first flags, so counting out a phrase that weighs against urgency
      (拒收, 不收) never raises a flag the whole comment did not raise.

    So a real report beside a covered phrase is judged as the net judges it beside any
    other words, without the help of the phrase's alarming ones: 民警拒收红包，可是我老公
    昨晚拿烟头烫我 (0.70 with 红包) now scores 0.46, as 民警很负责，可是… scores 0.34.

    Nor does the net speak for a short comment (under ``NET_MIN_CHARS`` letters and
    digits). Each feature block is scaled to unit length, so in a comment of a few
    characters one n-gram carries the whole score: the net called 我要投诉 violence,
    我气炸了 self-harm, a bare 民警 integrity and 他 a threat, common replies that would
    each open an urgent ticket (a threat or violence one needing two people to dismiss).
    A short alarming comment is what the rules are written for (弄死你, 不想活了, 上访):
    every urgent comment of the police corpus and of the blind set that only the net
    flagged has 18 characters or more.
    """

    def __init__(self, model: LinearTextModel, screen: UrgencyScreen) -> None:
        """Wrap ``model`` (classes ``0`` plus kinds) behind ``screen``, whose kinds it names."""
        self.model = model
        self.screen = screen
        self.labels = screen.labels
        self.threshold = float(model.metadata.get("threshold", 0.5))
        # The same model flags fewer comments now that it counts the phrases out, so the
        # analysis version names the reading too, and a rescore re-reads older analyses.
        self.version = f"{NET_READING}.{model.version}"

    def urgency(self, features: ModelInput) -> tuple[float, str]:
        """Return P(urgent) and the most likely kind."""
        return self._urgency(self.model.predict_proba(features))

    @staticmethod
    def _urgency(probabilities: dict[str, float]) -> tuple[float, str]:
        kinds = {kind: p for kind, p in probabilities.items() if kind != "0"}
        kind = max(kinds, key=kinds.__getitem__)
        return 1.0 - probabilities.get("0", 0.0), kind

    def flag(self, text: str, decisions: ModelInput, features_of: Callable[[str], Features]) -> UrgencyFlag | None:
        """Flag the normalised ``text`` when the model finds it urgent, ``unless`` phrases aside.

        ``decisions`` are the model's input for all of ``text``; ``features_of`` gives
        the feature blocks of any text (a clause, a stretch outside the phrases).
        """
        if sum(char.isalnum() for char in text) < NET_MIN_CHARS:
            return None
        probability, kind = self.urgency(decisions)
        if probability < self.threshold:
            return None
        spans = self.screen.unless_spans(text)
        if not spans:
            clauses = [clause for clause in _CLAUSE_SPLIT.split(text) if clause.strip()]
            evidence = text
            if len(clauses) > 1:
                evidence = max(clauses, key=lambda clause: self.urgency(features_of(clause))[0])
            return self._flag(kind, evidence)
        whole = features_of(text)
        stretches = _outside(text, spans)
        outside = _summed([features_of(stretch) for stretch in stretches])
        if LEXICON_BLOCK in whole:  # the dense features describe the comment, not its words
            outside[LEXICON_BLOCK] = whole[LEXICON_BLOCK]
        probability, kind = self._share(outside, whole)
        clauses = [clause for stretch in stretches for clause in _CLAUSE_SPLIT.split(stretch) if clause.strip()]
        if probability < self.threshold or not clauses:
            return None
        # The clauses are fragments the cut may have left (他 of 他打电话说…), which
        # scored alone would outshout the rest; they are weighed as in the comment too.
        return self._flag(kind, max(clauses, key=lambda clause: self._share(features_of(clause), whole)[0]))

    def _flag(self, kind: str, evidence: str) -> UrgencyFlag:
        return UrgencyFlag(kind=kind, label=self.labels.get(kind, kind) + MODEL_LABEL_SUFFIX, evidence=evidence.strip())

    def _share(self, part: Features, whole: Features) -> tuple[float, str]:
        """P(urgent) and kind from ``part`` of the comment ``whole`` alone, weighed as in it."""
        return self._urgency(self.model.probabilities(self.model.decision_within(part, whole)))


def _outside(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The stretches of ``text`` between the (sorted, disjoint) ``spans``, empty ones left out."""
    edges = [0, *(edge for span in spans for edge in span), len(text)]
    stretches = (text[start:end] for start, end in zip(edges[::2], edges[1::2], strict=True))
    return [stretch for stretch in stretches if stretch]


def _summed(blocks: list[Features]) -> Features:
    """The sparse blocks of several texts added up: the n-grams of each, none across them."""
    total: Features = {}
    for features in blocks:
        for block, counts in features.items():
            if block in SPARSE_BLOCKS:
                merged = total.setdefault(block, {})
                for term, count in counts.items():
                    merged[term] = merged.get(term, 0.0) + count
    return total


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
