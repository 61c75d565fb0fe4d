"""The one-call analysis of a citizen comment that the other layers use.

``Analyzer.load()`` reads a model directory once; ``analyze()`` then runs normalisation,
segmentation, sentiment, category, urgency and keywords and names the model version that
produced the result, so a re-scored history can tell old analyses from new ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.category import CategoryClassifier
from nlp.keywords import comment_keywords
from nlp.lexicon import default_lexicon_scorer
from nlp.normalize import normalize_text
from nlp.once import once
from nlp.sentiment import SentimentScorer
from nlp.taxonomy import Taxonomy, default_taxonomy
from nlp.tokenizer import segment
from nlp.urgency import UrgencyFlag, UrgencyNet, default_urgency_screen

if TYPE_CHECKING:
    from nlp.features import Features, Featurizer
    from nlp.linear import LinearTextModel, SharedVocabulary

__all__ = ["Analyzer", "CommentAnalysis", "UrgencyFlag", "get_default_analyzer"]

#: How much of a comment is analysed (see :meth:`Analyzer.analyze`).
MAX_ANALYZED_CHARS = 2000
#: How much of a comment the urgency rules read: five times the models' share (the web
#: form takes 500 characters, one SMS at most 1,600). The rules and normalisation cost
#: up to about 2 and 1 µs a character (repeated 民警 or 打, spaced characters), so a
#: flood of a million characters analyses in 16–24 ms, against 11 ms for 2,000
#: characters of ordinary comments (measured 2026-12-06).
MAX_SCREENED_CHARS = 10_000
MAX_KEYWORDS = 5
MANIFEST = "manifest.json"
RULES_VERSION = "rules-2026.11.1"


@dataclass(frozen=True)
class CommentAnalysis:
    """Everything the system records about one comment."""

    sentiment_score: float
    sentiment_label: str
    categories: tuple[str, ...]
    urgency_flags: tuple[UrgencyFlag, ...]
    keywords: tuple[str, ...]
    model_version: str

    @property
    def is_urgent(self) -> bool:
        """True when any urgency flag fired: the comment opens a ticket whatever its score."""
        return bool(self.urgency_flags)


def default_model_dir() -> Path:
    """Directory of the shipped default model (inside the installed package)."""
    return Path(str(resources.files("nlp.resources").joinpath("models", "default")))


class Analyzer:
    """Analyses comments with one loaded set of models; cheap to call, costly to build."""

    def __init__(
        self,
        *,
        sentiment_model: LinearTextModel | None = None,
        category_model: LinearTextModel | None = None,
        taxonomy: Taxonomy | None = None,
        featurizer: Featurizer | None = None,
        urgency_model: LinearTextModel | None = None,
    ) -> None:
        """Assemble an analyzer from loaded models; ``load()`` is the usual way in."""
        self.taxonomy = taxonomy or default_taxonomy()
        self._sentiment = SentimentScorer(sentiment_model)
        self._category = CategoryClassifier(self.taxonomy, category_model)
        self._lexicon = default_lexicon_scorer()
        self._urgency = default_urgency_screen()
        self._urgency_net = UrgencyNet(urgency_model, self._urgency) if urgency_model else None
        models = [model for model in (sentiment_model, category_model, urgency_model) if model is not None]
        self._featurizer = featurizer
        self._vocabulary: SharedVocabulary | None = None
        if models:
            from nlp.features import FeatureConfig, Featurizer  # lazy: avoids an import cycle
            from nlp.linear import SharedVocabulary

            if featurizer is None:
                self._featurizer = Featurizer(FeatureConfig.covering([model.config for model in models]))
            self._vocabulary = SharedVocabulary(models)
        sentiment_version = sentiment_model.version if sentiment_model else RULES_VERSION
        category_version = category_model.version if category_model else f"seeds-{self.taxonomy.version}"
        urgency_version = self._urgency.version
        if self._urgency_net is not None:
            urgency_version += f".{self._urgency_net.version}"
        version = f"minyi-sent-{sentiment_version}+cat-{category_version}+urg-{urgency_version}"
        version += f"+lex-{self._lexicon.lexicon.fingerprint}"
        if taxonomy is not None and taxonomy != default_taxonomy():
            version += f"+tax-{taxonomy.fingerprint}"
        self.model_version = version

    @classmethod
    def load(cls, model_dir: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> Analyzer:
        """Load the models in ``model_dir`` (``None``: the shipped default).

        A directory may hold only some models (``train --task sentiment`` writes one);
        missing ones fall back to the shipped default, and without any model file the
        rule engines (lexicon sentiment, seed categories) are used.
        """
        from nlp.linear import LinearTextModel  # lazy: only needed with models

        directories = [default_model_dir()]
        if model_dir is not None:
            directories.insert(0, Path(model_dir))
            if not directories[0].is_dir():
                raise FileNotFoundError(f"model directory not found: {model_dir}")
        found: dict[str, LinearTextModel] = {}
        for directory in directories:
            for task in ("sentiment", "category", "urgency"):
                path = directory / f"{task}.json"
                if task not in found and path.is_file():
                    found[task] = LinearTextModel.load(path)
        return cls(
            sentiment_model=found.get("sentiment"),
            category_model=found.get("category"),
            urgency_model=found.get("urgency"),
            taxonomy=taxonomy,
        )

    def analyze(self, text: str) -> CommentAnalysis:
        """Analyse one comment (any script, any width); empty text gives a neutral result.

        The models read only the first ``MAX_ANALYZED_CHARS`` characters: the web form
        stops at 500, but an SMS thread or an API client may send more, and a megabyte
        of text would hold a scheduler (and the GIL) for seconds. The urgency rules,
        which are cheap and must not miss a threat written after a long complaint, read
        the first ``MAX_SCREENED_CHARS``; their flags (and the kinds the models see)
        are those of that longer text.
        """
        normalized = normalize_text(text[:MAX_ANALYZED_CHARS])
        words = segment(normalized, normalize=False) if normalized else []
        lexicon = self._lexicon.score(normalized)
        if len(text) > MAX_ANALYZED_CHARS:
            flags = self._urgency.screen(normalize_text(text[:MAX_SCREENED_CHARS]))
        else:
            flags = self._urgency.screen(normalized)
        features = None
        if self._featurizer is not None:
            kinds = [flag.kind for flag in flags]
            features = self._featurizer.features(normalized, words, lexicon, kinds)
        decisions = None
        if features is not None and self._vocabulary is not None:
            decisions = self._vocabulary.decide(features)
        if not flags and self._urgency_net is not None and decisions is not None and normalized:
            model_flag = self._urgency_net.flag(normalized, decisions, self._text_features)
            if model_flag is not None:
                flags = (model_flag,)
        sentiment = self._sentiment.score(lexicon, decisions)
        categories = self._category.classify(normalized, decisions) if normalized else ()
        return CommentAnalysis(
            sentiment_score=sentiment.score,
            sentiment_label=sentiment.label,
            categories=categories,
            urgency_flags=flags,
            keywords=comment_keywords(words, MAX_KEYWORDS),
            model_version=self.model_version,
        )

    def _text_features(self, text: str) -> Features:
        """The feature blocks of part of a comment, for the urgency net (:class:`UrgencyNet`).

        It quotes the clause it finds most urgent, and takes a second look at a comment
        holding an ``unless`` phrase through the stretches outside the phrase.
        """
        if self._featurizer is None:
            return {}
        words = segment(text, normalize=False)
        return self._featurizer.features(text, words, self._lexicon.score(text))

    def analyze_many(self, texts: Sequence[str]) -> list[CommentAnalysis]:
        """Analyse comments in order (one result per input, duplicates included)."""
        return [self.analyze(text) for text in texts]


@once
def get_default_analyzer() -> Analyzer:
    """Return the shipped analyzer, loaded once per process on first use."""
    return Analyzer.load()


def read_manifest(model_dir: str | Path) -> dict[str, object]:
    """Read the ``manifest.json`` of a model directory (what was trained, on what, when)."""
    data = json.loads((Path(model_dir) / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("manifest.json must hold a JSON object")
    return data
