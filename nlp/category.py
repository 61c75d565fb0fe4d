"""Complaint category: seed-phrase matching (cold start) blended with a learned classifier.

A comment may name two problems (出警慢，态度也差), so categories are multi-label,
returned most likely first. The learned classifier only knows the categories it was
trained on; seed matching covers categories an administrator added since, so an edited
taxonomy works before the next retraining.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.linear import LinearTextModel
    from nlp.taxonomy import Taxonomy

# A seed hit adds this to the category's probability, so a named problem (记录仪) wins
# over a weak model guess, while the model can still add categories no seed mentions.
SEED_BOOST = 0.35
# Multi-label decision threshold on the blended per-category probability.
THRESHOLD = 0.5
MAX_CATEGORIES = 3


class CategoryClassifier:
    """Assigns taxonomy categories to a normalised comment."""

    def __init__(self, taxonomy: Taxonomy, model: LinearTextModel | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        self._seeds = [
            (category.name, tuple(sorted(category.seeds, key=len, reverse=True)))
            for category in taxonomy.categories
            if category.name != taxonomy.fallback
        ]
        self._known = frozenset(taxonomy.names)

    def seed_hits(self, text: str) -> dict[str, int]:
        """Count seed phrases of each category present in ``text``."""
        hits: dict[str, int] = {}
        for name, seeds in self._seeds:
            count = sum(1 for seed in seeds if seed in text)
            if count:
                hits[name] = count
        return hits

    def scores(self, text: str, features: dict[str, float] | None = None) -> dict[str, float]:
        """Per-category probability-like scores in [0, 1] (fallback excluded)."""
        scores: dict[str, float] = {}
        if self.model is not None and features is not None:
            for name, probability in self.model.predict_proba(features).items():
                if name in self._known:
                    scores[name] = probability
        for name, count in self.seed_hits(text).items():
            boost = SEED_BOOST if self.model is not None else 0.5 + 0.1 * count
            scores[name] = min(1.0, scores.get(name, 0.0) + boost)
        return scores

    def classify(self, text: str, features: dict[str, float] | None = None) -> tuple[str, ...]:
        """Categories above threshold, most likely first; the fallback when none is."""
        scores = self.scores(text, features)
        fallback = self.taxonomy.fallback
        fallback_score = scores.pop(fallback, 0.0)
        chosen = sorted(
            (name for name, score in scores.items() if score >= THRESHOLD),
            key=lambda name: -scores[name],
        )[:MAX_CATEGORIES]
        if chosen and fallback_score <= max(scores[name] for name in chosen):
            return tuple(chosen)
        return (fallback,)
