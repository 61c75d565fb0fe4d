"""Question sets: which dimensions and reasons a survey asks about, as versioned data.

Each set is a JSON file in ``surveys/resources/question_sets`` named ``<name>.v<N>.json``.
A change of wording or of the list of dimensions or reasons is a *new file* with a higher
version, never an edit of an old one: every response stores the reference of the set it
was given on (``alarm_110.v1``), so the index and the triage pages can always read an old
answer with the questions the citizen actually saw. The newest version of the set that
covers a case's category is the one shown to new visitors.

Dimension and reason keys are stable English identifiers (they appear in form field names
and in ``responses.dimension_ratings`` / ``responses.reasons``); the Chinese labels live
only here. A key shared by two sets (``service_attitude``) means the same question, so it
can be aggregated across them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from surveys.errors import ConfigurationError, ValidationError
from surveys.models import CaseCategory

#: The overall question: the national five-level 好差评 scale, best first as it is shown.
OVERALL_LABELS: Mapping[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

#: Dimension ratings use the same 1–5 values with two-character labels, so five choices fit
#: side by side on a 320 px screen at 18 px type.
DIMENSION_LABELS: Mapping[int, str] = {5: "很好", 4: "好", 3: "一般", 2: "差", 1: "很差"}

_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_FILE_NAME = re.compile(r"(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json")


@dataclass(frozen=True)
class Choice:
    """One dimension or reason: a stable key and the Chinese label citizens read."""

    key: str
    label: str


@dataclass(frozen=True)
class QuestionSet:
    """One version of the questions asked about some case categories."""

    name: str
    version: int
    title: str
    matter_labels: Mapping[CaseCategory, str]
    dimensions: tuple[Choice, ...]
    reasons: tuple[Choice, ...]

    @property
    def ref(self) -> str:
        """What a response stores: ``<name>.v<version>``."""
        return f"{self.name}.v{self.version}"

    def dimension_label(self, key: str) -> str | None:
        """The label of dimension ``key``, or None if this set does not ask it."""
        return next((d.label for d in self.dimensions if d.key == key), None)

    def reason_label(self, key: str) -> str | None:
        """The label of reason ``key``, or None if this set does not list it."""
        return next((r.label for r in self.reasons if r.key == key), None)

    def matter_label(self, category: CaseCategory) -> str:
        """How the citizen would name this kind of matter (``110报警求助``)."""
        return self.matter_labels.get(category, category.label)


@dataclass(frozen=True)
class QuestionCatalog:
    """Every known version of every set, and the current one per case category."""

    by_ref: Mapping[str, QuestionSet]
    current_by_category: Mapping[CaseCategory, QuestionSet]


def _choices(raw: Any, what: str, source: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(f"{source}: {what} must be a non-empty list")
    choices = []
    for item in raw:
        entry = item if isinstance(item, dict) else {}
        key, label = entry.get("key"), entry.get("label")
        if not isinstance(key, str) or not _KEY.fullmatch(key) or not isinstance(label, str) or not label:
            raise ConfigurationError(f"{source}: bad {what} entry {item!r}")
        choices.append(Choice(key, label))
    if len({c.key for c in choices}) != len(choices):
        raise ConfigurationError(f"{source}: duplicate {what} keys")
    return tuple(choices)


def parse_question_set(file_name: str, raw: Any) -> QuestionSet:
    """Build a set from its JSON, refusing anything malformed (a bad file must fail loudly)."""
    match = _FILE_NAME.fullmatch(file_name)
    if match is None or not isinstance(raw, dict):
        raise ConfigurationError(f"{file_name}: expected <name>.v<N>.json holding an object")
    if raw.get("name") != match["name"] or raw.get("version") != int(match["version"]):
        raise ConfigurationError(f"{file_name}: name/version inside the file do not match its file name")
    categories = raw.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise ConfigurationError(f"{file_name}: categories must map case categories to citizen wording")
    try:
        matter_labels = {CaseCategory(key): str(label) for key, label in categories.items()}
    except ValueError as exc:
        raise ConfigurationError(f"{file_name}: {exc}") from exc
    return QuestionSet(
        name=match["name"],
        version=int(match["version"]),
        title=str(raw.get("title") or match["name"]),
        matter_labels=matter_labels,
        dimensions=_choices(raw.get("dimensions"), "dimension", file_name),
        reasons=_choices(raw.get("reasons"), "reason", file_name),
    )


def build_catalog(sets: list[QuestionSet]) -> QuestionCatalog:
    """Index ``sets`` and pick the newest version per category; every category needs one."""
    by_ref: dict[str, QuestionSet] = {}
    newest: dict[str, QuestionSet] = {}
    for qset in sets:
        if qset.ref in by_ref:
            raise ConfigurationError(f"question set {qset.ref} is defined twice")
        by_ref[qset.ref] = qset
        if qset.name not in newest or qset.version > newest[qset.name].version:
            newest[qset.name] = qset
    current: dict[CaseCategory, QuestionSet] = {}
    for qset in newest.values():
        for category in qset.matter_labels:
            if category in current:
                raise ConfigurationError(f"{category} is covered by {current[category].ref} and {qset.ref}")
            current[category] = qset
    missing = set(CaseCategory) - set(current)
    if missing:
        raise ConfigurationError(f"no question set covers {sorted(missing)}")
    return QuestionCatalog(by_ref=by_ref, current_by_category=current)


@functools.cache
def load_catalog() -> QuestionCatalog:
    """The shipped question sets, read once per process on first use (not at import)."""
    folder = resources.files("surveys.resources.question_sets")
    sets = [
        parse_question_set(entry.name, json.loads(entry.read_text(encoding="utf-8")))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    return build_catalog(sets)


def question_set_for(category: CaseCategory) -> QuestionSet:
    """The set new visitors see for a case of ``category``."""
    return load_catalog().current_by_category[category]


def matter_words(category: CaseCategory) -> str:
    """The kind of matter as the citizen knows it (110报警求助, not the police's 110警情).

    The survey page and the SMS both name the matter so, from the category's question set.
    """
    return question_set_for(category).matter_label(category)


def question_set_by_ref(ref: str) -> QuestionSet | None:
    """A set by the reference a response stored, or None if unknown."""
    return load_catalog().by_ref.get(ref)


def resolve_question_set(category: CaseCategory, ref: str | None) -> QuestionSet:
    """The set a submitted answer claims it was given on, checked against the case.

    A page rendered just before a new version shipped still posts the old reference, and
    its answer is validated against (and stored with) that old version. A reference that
    is unknown or belongs to another category is a forged field.
    """
    if not ref:
        return question_set_for(category)
    qset = question_set_by_ref(ref)
    if qset is None or category not in qset.matter_labels:
        raise ValidationError("form", "问卷版本无效，请刷新页面后重新填写")
    return qset
