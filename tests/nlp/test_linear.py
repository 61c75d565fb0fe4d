"""Scoring several linear models over one shared vocabulary, as the analyzer does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nlp.analysis import Analyzer
from nlp.features import FeatureConfig, Featurizer
from nlp.lexicon import default_lexicon_scorer
from nlp.linear import LinearTextModel, SharedVocabulary
from nlp.models.training import LOGISTIC, TrainingConfig, train_category, train_sentiment, train_urgency
from nlp.models.vectorize import Vocabulary, transform
from nlp.normalize import normalize_text
from nlp.sentiment import SentimentScorer
from nlp.tokenizer import segment

SENTIMENT_ROWS = [
    ("民警很热情", "pos"),
    ("出警非常及时", "pos"),
    ("态度很好很耐心", "pos"),
    ("民警态度很差", "neg"),
    ("出警太慢了", "neg"),
    ("一直没人联系我", "neg"),
    ("一般", "neu"),
    ("还行吧", "neu"),
] * 3
CATEGORY_ROWS = [
    ("出警太慢了，等了一个小时", "出警速度"),
    ("半小时才到现场", "出警速度"),
    ("态度恶劣爱答不理", "服务态度"),
    ("说话很冲不耐烦", "服务态度"),
    ("办证窗口排队太久", "其他"),
] * 3
URGENCY_ROWS = [("我不想活了", "self_harm"), ("他说要弄死我", "threat"), ("谢谢民警", "0"), ("来得很快", "0")] * 3
TEXTS = ["出警太慢了，态度也很差", "民警很热情，谢谢", "🙂", "完全无关的句子ABC", "5分"]


@pytest.fixture(scope="module")
def models() -> list[LinearTextModel]:
    """Three models with different vocabularies; the urgency one has no lexicon block."""
    return [
        train_sentiment(SENTIMENT_ROWS, base=False),
        train_category(CATEGORY_ROWS, base=False),
        train_urgency(URGENCY_ROWS, base=False),
    ]


def features_of(text: str, config: FeatureConfig) -> dict[str, dict[str, float]]:
    normalized = normalize_text(text)
    words = segment(normalized, normalize=False)
    return Featurizer(config).features(normalized, words, default_lexicon_scorer().score(normalized))


@pytest.mark.parametrize("text", TEXTS)
def test_joint_decisions_equal_each_models_own(models: list[LinearTextModel], text: str) -> None:
    vocabulary = SharedVocabulary(models)
    features = features_of(text, FeatureConfig.covering([model.config for model in models]))
    decisions = vocabulary.decide(features)
    for model in models:
        assert decisions.of(model) == pytest.approx(model.decision(features), abs=1e-9)
        assert model.predict_proba(decisions) == pytest.approx(model.predict_proba(features), abs=1e-9)


@pytest.mark.parametrize("text", TEXTS)
def test_decisions_follow_the_training_formulas(models: list[LinearTextModel], text: str) -> None:
    """Scoring one comment gives what training's matrix (TF-IDF, L2 per block) gives."""
    features = features_of(text, FeatureConfig.covering([model.config for model in models]))
    for model in models:
        row = transform([features], Vocabulary(terms=model.terms, idf=model.idf))
        expected = (row @ model.coef.T).ravel() + model.intercept
        assert model.decision(features) == pytest.approx(expected.tolist(), abs=1e-9)


def test_a_model_outside_the_vocabulary_is_refused(models: list[LinearTextModel]) -> None:
    decisions = SharedVocabulary(models[:2]).decide(features_of("出警太慢", FeatureConfig()))
    with pytest.raises(KeyError):
        decisions.of(models[2])


def test_covering_config_extracts_what_every_model_uses() -> None:
    covering = FeatureConfig.covering(
        [FeatureConfig(char_max=4, use_lexicon=False), FeatureConfig(char_min=2, word_max=3, lexicon_scale=2.0)]
    )
    assert covering == FeatureConfig(char_min=1, char_max=4, word_min=1, word_max=3, lexicon_scale=2.0)
    assert not FeatureConfig.covering([FeatureConfig(use_lexicon=False)]).use_lexicon
    with pytest.raises(ValueError, match="lexicon scale"):
        FeatureConfig.covering([FeatureConfig(lexicon_scale=1.0), FeatureConfig(lexicon_scale=2.0)])


def test_analyzer_extracts_the_features_its_models_were_trained_on() -> None:
    # Logistic regression with little data gives probabilities away from 0 and 1, where
    # missing 4-grams would show.
    config = TrainingConfig(features=FeatureConfig(char_max=4), models=((LOGISTIC, 0.3),))
    model = train_sentiment(SENTIMENT_ROWS, base=False, config=config)
    assert any(len(term) == 4 for term in model.terms["c"])
    text = "民警态度很差，出警太慢了"
    expected = SentimentScorer(model).score(
        default_lexicon_scorer().score(normalize_text(text)), features_of(text, model.config)
    )
    assert 0.01 < expected.score < 0.99
    assert Analyzer(sentiment_model=model).analyze(text).sentiment_score == pytest.approx(expected.score, abs=1e-4)


@pytest.mark.parametrize("text", TEXTS)
def test_a_comment_within_itself_scores_as_it_scores(models: list[LinearTextModel], text: str) -> None:
    features = features_of(text, FeatureConfig.covering([model.config for model in models]))
    for model in models:
        assert model.decision_within(features, features) == pytest.approx(model.decision(features), abs=1e-6)
        assert model.probabilities(model.decision(features)) == model.predict_proba(features)


def test_parts_within_a_comment_add_up_to_it(models: list[LinearTextModel]) -> None:
    """Each part carries its share of the comment's decision, at the comment's scale."""
    features = features_of("出警太慢了，态度也很差", FeatureConfig.covering([model.config for model in models]))
    whole = {"c": features["c"]}
    terms = list(whole["c"].items())
    first, second = {"c": dict(terms[: len(terms) // 2])}, {"c": dict(terms[len(terms) // 2 :])}
    for model in models:
        intercept = model.intercept.tolist()
        first_share = [v - c for v, c in zip(model.decision_within(first, whole), intercept, strict=True)]
        second_share = [v - c for v, c in zip(model.decision_within(second, whole), intercept, strict=True)]
        total = [c + a + b for c, a, b in zip(intercept, first_share, second_share, strict=True)]
        assert total == pytest.approx(model.decision(whole), abs=1e-6)
        # Scored alone, a part is scaled to unit length and weighs more than within the comment.
        alone = [v - c for v, c in zip(model.decision(first), intercept, strict=True)]
        assert all(abs(w) <= abs(a) + 1e-12 for w, a in zip(first_share, alone, strict=True))


@pytest.mark.parametrize("failing", ["numpy.savez_compressed", "nlp.linear.json.dumps", "nlp.model_file.os.fsync"])
def test_a_failed_save_leaves_the_model_that_was_there(
    models: list[LinearTextModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A deployment's model directory must load after a save fails midway (a full disk)."""
    sentiment, category, _ = models
    sentiment.save(tmp_path / "sentiment.json")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(failing, full_disk)
    replacement = dataclasses.replace(category, task="sentiment", classes=sentiment.classes, version="new")
    with pytest.raises(OSError, match="No space"):
        replacement.save(tmp_path / "sentiment.json")
    monkeypatch.undo()
    assert LinearTextModel.load(tmp_path / "sentiment.json").version == sentiment.version
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sentiment.json", "sentiment.npz"]


def test_a_saved_model_replaces_the_old_one_whole(models: list[LinearTextModel], tmp_path: Path) -> None:
    category = models[1]
    category.save(tmp_path / "category.json")
    (tmp_path / "category.json").chmod(0o640)
    other = dataclasses.replace(category, version="second", coef=category.coef * 2)
    other.save(tmp_path / "category.json")
    loaded = LinearTextModel.load(tmp_path / "category.json")
    assert loaded.version == "second"
    assert loaded.coef == pytest.approx(other.coef, rel=1e-6)
    assert (tmp_path / "category.json").stat().st_mode & 0o777 == 0o640  # the mode it had
    assert sorted(path.name for path in tmp_path.iterdir()) == ["category.json", "category.npz"]
