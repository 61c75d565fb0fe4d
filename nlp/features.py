"""Features shared by the learned sentiment and category models.

Three blocks: character n-grams of the normalised text (robust to segmentation errors,
typos and new words), word n-grams from our jieba tokenizer (meaning units such as
出警 or 执法记录仪), and a few dense features from the lexicon engine that carry what
n-grams cannot: negation scope, double negation, degree and the clause after 但是.
Training and inference call the same code, so a model sees identical features in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.lexicon import LexiconResult

CHAR_BLOCK = "c"
WORD_BLOCK = "w"
LEXICON_BLOCK = "l"
# Sparse blocks are TF-IDF weighted and L2-normalised per block; the lexicon block is
# dense and used as is.
SPARSE_BLOCKS = (CHAR_BLOCK, WORD_BLOCK)
# The order of the blocks among a model's feature columns.
BLOCK_ORDER = (*SPARSE_BLOCKS, LEXICON_BLOCK)

Features = dict[str, dict[str, float]]


@dataclass(frozen=True)
class FeatureConfig:
    """Which features a model uses; stored in the model file so inference matches."""

    char_min: int = 1
    char_max: int = 3
    word_min: int = 1
    word_max: int = 2
    use_lexicon: bool = True
    lexicon_scale: float = 1.0

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (stored in the model file)."""
        return asdict(self)

    @classmethod
    def covering(cls, configs: Sequence[FeatureConfig]) -> FeatureConfig:
        """The smallest configuration that extracts every feature each of ``configs`` uses.

        Models only look up their own terms, so extra n-gram sizes cost a little time
        and change nothing; the lexicon block, being scaled, must agree.
        """
        if not configs:
            return cls()
        scales = {config.lexicon_scale for config in configs if config.use_lexicon}
        if len(scales) > 1:
            raise ValueError(f"models disagree on the lexicon scale: {sorted(scales)}")
        return cls(
            char_min=min(config.char_min for config in configs),
            char_max=max(config.char_max for config in configs),
            word_min=min(config.word_min for config in configs),
            word_max=max(config.word_max for config in configs),
            use_lexicon=bool(scales),
            lexicon_scale=scales.pop() if scales else cls.lexicon_scale,
        )

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FeatureConfig:
        """Read the stored form, ignoring keys from newer versions."""
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)  # type: ignore[arg-type]


def _tanh_half(value: float) -> float:
    return math.tanh(value / 2.0)


class Featurizer:
    """Turns a normalised comment (and its words and lexicon result) into feature blocks."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        """Extract the features ``config`` names (the defaults when ``None``)."""
        self.config = config or FeatureConfig()

    def char_ngrams(self, text: str) -> dict[str, float]:
        """Character n-gram counts; spaces are kept out (they are noise in Chinese text)."""
        chars = text.replace(" ", "")
        counts: dict[str, float] = {}
        n = len(chars)
        for size in range(self.config.char_min, self.config.char_max + 1):
            for i in range(n - size + 1):
                gram = chars[i : i + size]
                counts[gram] = counts.get(gram, 0.0) + 1.0
        return counts

    def word_ngrams(self, words: Sequence[str]) -> dict[str, float]:
        """Word n-gram counts (n-grams joined with a space, which never occurs in a word)."""
        counts: dict[str, float] = {}
        lowered = [word.lower() for word in words]
        n = len(lowered)
        for size in range(self.config.word_min, self.config.word_max + 1):
            for i in range(n - size + 1):
                gram = " ".join(lowered[i : i + size]) if size > 1 else lowered[i]
                counts[gram] = counts.get(gram, 0.0) + 1.0
        return counts

    def lexicon_features(
        self, text: str, lexicon: LexiconResult, urgency_kinds: Sequence[str] = ()
    ) -> dict[str, float]:
        """Dense features from the rule engine, squashed to [-1, 1] and scaled.

        ``urgency_kinds`` are the kinds the urgency rules flagged (``integrity``, …): any
        is a feature, and each kind one of its own, since an integrity allegation is a
        廉洁问题 complaint, officer violence an 执法规范 one, whatever else the comment says.
        """
        scale = self.config.lexicon_scale
        positive = negative = last = 0.0
        negated_positive = negated_negative = last_clause = 0
        for hit in lexicon.hits:  # one pass: this runs for every comment
            if hit.value > 0:
                positive += hit.value
            elif hit.value < 0:
                negative += hit.value
            if hit.negations % 2 == 1:
                negated_positive += hit.base > 0
                negated_negative += hit.base < 0
            if hit.clause > last_clause:  # the sum of the last clause's hits
                last_clause, last = hit.clause, hit.value
            elif hit.clause == last_clause:
                last += hit.value
        features = {
            "score": _tanh_half(lexicon.score),
            "pos": _tanh_half(positive),
            "neg": _tanh_half(negative),
            "last": _tanh_half(last),
            "neg_pos": min(1.0, float(negated_positive)),
            "neg_neg": min(1.0, float(negated_negative)),
            "neutral_reply": 1.0 if lexicon.is_neutral_reply else 0.0,
            "no_hit": 0.0 if lexicon.hits else 1.0,
            "short": 1.0 if len(text) <= 4 else 0.0,
            # One- to four-character replies give the n-grams little to go on, so the
            # rule score of a short reply (不好, 不规范, 牛) gets a weight of its own.
            "short_score": _tanh_half(lexicon.score) if len(text) <= 4 else 0.0,
            "after_contrast": _tanh_half(lexicon.after_contrast or 0.0),
            "question": 1.0 if lexicon.is_question else 0.0,
            "suggestion": 1.0 if lexicon.is_suggestion else 0.0,
            "urgent": 1.0 if urgency_kinds else 0.0,
            "sarcasm": 1.0 if lexicon.is_sarcasm else 0.0,
            "rated": 0.0 if lexicon.rating is None else 1.0,
            "rating": lexicon.rating or 0.0,
            "digits": 1.0 if text and all(ch.isdigit() or not ch.isalnum() for ch in text) else 0.0,
        }
        for kind in urgency_kinds:
            features[f"urgent_{kind}"] = 1.0
        return {name: value * scale for name, value in features.items() if value}

    def features(
        self,
        text: str,
        words: Sequence[str],
        lexicon: LexiconResult | None,
        urgency_kinds: Sequence[str] = (),
    ) -> Features:
        """All blocks for one comment; ``text`` must already be normalised."""
        blocks: Features = {
            CHAR_BLOCK: self.char_ngrams(text),
            WORD_BLOCK: self.word_ngrams(words),
        }
        if self.config.use_lexicon and lexicon is not None:
            blocks[LEXICON_BLOCK] = self.lexicon_features(text, lexicon, urgency_kinds)
        return blocks
