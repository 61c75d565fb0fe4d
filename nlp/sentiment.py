"""Sentiment of one comment: a score in [0, 1] (1 = most positive) and a three-way label.

Two engines: the lexicon rules (cold start; negation, degree, contrast) and a learned
linear model over character/word n-grams plus the lexicon's findings. Short "nothing to
add / so-so" answers (无, 一般, 还行吧) are neutral whatever the engine says: they are
the commonest replies to a satisfaction survey and a model trained on product reviews
has no neutral class to put them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.lexicon import LexiconResult
    from nlp.linear import LinearTextModel, ModelInput

LABELS = ("negative", "neutral", "positive")
SHORT_LABELS = {"neg": "negative", "neu": "neutral", "pos": "positive"}


@dataclass(frozen=True)
class SentimentResult:
    """Score in [0, 1] and label (negative / neutral / positive)."""

    score: float
    label: str


class SentimentScorer:
    """Chooses between the learned model and the lexicon rules and applies the overrides."""

    def __init__(self, model: LinearTextModel | None = None) -> None:
        """Use ``model`` when given, the lexicon rules otherwise."""
        self.model = model

    def score(self, lexicon: LexiconResult, features: ModelInput | None) -> SentimentResult:
        """Score a comment from its lexicon result and (for the learned model) its features."""
        if lexicon.is_neutral_reply:
            return SentimentResult(0.5, "neutral")
        reply = lexicon.reply
        if reply is not None:
            return SentimentResult(*reply)
        if self.model is None or features is None:
            return SentimentResult(round(lexicon.probability, 4), lexicon.label)
        probabilities = self.model.predict_proba(features)
        return result_from_probabilities(probabilities)


def result_from_probabilities(probabilities: dict[str, float]) -> SentimentResult:
    """Map class probabilities (pos/neu/neg or 1/0) to a score and label.

    The score is P(pos) + P(neu)/2, so a confident neutral sits at 0.5 and the score
    orders comments from worst to best for the triage queue.
    """
    positive = probabilities.get("pos", probabilities.get("1", 0.0))
    neutral = probabilities.get("neu", 0.0)
    negative = probabilities.get("neg", probabilities.get("0", 0.0))
    score = positive + neutral / 2.0
    best = max((negative, "negative"), (neutral, "neutral"), (positive, "positive"))
    return SentimentResult(round(min(1.0, max(0.0, score)), 4), best[1])
