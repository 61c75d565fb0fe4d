"""Complaint category: seed-phrase matching (cold start) blended with a learned classifier.

A comment may name two problems (出警慢，态度也差), so up to two categories are
returned, most likely first. The learned classifier is one softmax over the categories
it was trained on; seed phrases only decide for categories it does not know (an
administrator's new category works before the next retraining) and when there is no
model at all.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.linear import LinearTextModel, ModelInput
    from nlp.taxonomy import Taxonomy

# The runner-up is reported as a second category when the model gives it at least this
# probability (a genuine second complaint, not a hesitation between two readings).
SECOND_MIN_PROBABILITY = 0.5
# ... or at least this much when the comment names both problems, each with one of its
# category's seed phrases (态度恶劣，出警太慢). Requiring the main category's seed too is
# what allows so low a bar: cross-validated on the police corpus's train part, a bar of
# 0.1 with a seed of the runner-up alone cost 2 points of exact-set accuracy, with seeds
# of both it costs nothing (docs/nlp.md).
SECOND_WITH_SEED_PROBABILITY = 0.1
# Seed matching without a model: a category needs one seed phrase in the comment.
# With a model, a seed of an unknown category scores this (above the seed bar, which
# such a category meets on its own seed: the model cannot know it).
UNKNOWN_CATEGORY_SEED_SCORE = 0.4
MAX_CATEGORIES = 2


class CategoryClassifier:
    """Assigns taxonomy categories to a normalised comment."""

    def __init__(self, taxonomy: Taxonomy, model: LinearTextModel | None = None) -> None:
        """Use ``model`` when given, seed phrases of ``taxonomy`` otherwise."""
        self.taxonomy = taxonomy
        self.model = model
        # Every (category, seed) pair, indexed by the seed's first character: a comment
        # is walked once instead of searched once per seed (285 in the default taxonomy).
        self._seeds_by_first_char: dict[str, list[tuple[str, str]]] = {}
        for category in taxonomy.categories:
            if category.name == taxonomy.fallback:
                continue
            for seed in category.seeds:
                if seed:
                    self._seeds_by_first_char.setdefault(seed[0], []).append((category.name, seed))
        self._known = frozenset(taxonomy.names)
        self._model_classes = frozenset(model.classes) if model is not None else frozenset()
        self._max_categories = MAX_CATEGORIES
        if model is not None and not model.metadata.get("multi_category", True):
            self._max_categories = 1

    def seed_hits(self, text: str) -> dict[str, int]:
        """Count the seed phrases of each category present in ``text`` (each seed once)."""
        index = self._seeds_by_first_char
        found: set[tuple[str, str]] = set()
        for position, char in enumerate(text):
            for entry in index.get(char, ()):
                if text.startswith(entry[1], position):
                    found.add(entry)
        if not found:
            return {}
        counts = Counter(name for name, _seed in found)
        # In taxonomy order, which breaks ties between equal scores.
        return {name: counts[name] for name in self.taxonomy.names if name in counts}

    def scores(
        self, text: str, features: ModelInput | None = None, hits: dict[str, int] | None = None
    ) -> dict[str, float]:
        """Per-category scores in [0, 1], restricted to the taxonomy's categories."""
        if hits is None:
            hits = self.seed_hits(text)
        if self.model is None or features is None:
            total = sum(hits.values())
            return {name: count / total for name, count in hits.items()}
        probabilities = self.model.predict_proba(features)
        scores = {name: probability for name, probability in probabilities.items() if name in self._known}
        # A category an administrator removed is still a class of the model: what the model
        # gives it belongs to the fallback (其他), not to whichever category ranks next.
        removed = sum(probability for name, probability in probabilities.items() if name not in self._known)
        if removed:
            fallback = self.taxonomy.fallback
            scores[fallback] = scores.get(fallback, 0.0) + removed
        for name in hits:
            if name not in self._model_classes:
                scores[name] = max(scores.get(name, 0.0), UNKNOWN_CATEGORY_SEED_SCORE)
        return scores

    def classify(self, text: str, features: ModelInput | None = None) -> tuple[str, ...]:
        """Return the main category and, if likely enough, a second; the fallback if none fits."""
        seeded = self.seed_hits(text)
        scores = self.scores(text, features, seeded)
        ranked = sorted(scores, key=lambda name: -scores[name])
        if not ranked:
            return (self.taxonomy.fallback,)
        if self.model is None or features is None:
            return tuple(ranked[:MAX_CATEGORIES])
        chosen = [ranked[0]]
        if ranked[0] == self.taxonomy.fallback or self._max_categories == 1:
            return tuple(chosen)
        main_seeded = ranked[0] in seeded
        for name in ranked[1:]:
            if name == self.taxonomy.fallback:
                continue
            named = name in seeded and (main_seeded or name not in self._model_classes)
            bar = SECOND_WITH_SEED_PROBABILITY if named else SECOND_MIN_PROBABILITY
            if scores[name] >= bar:
                chosen.append(name)
            if len(chosen) == self._max_categories:
                break
        return tuple(chosen)
