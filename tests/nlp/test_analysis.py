"""The public analysis API other layers code against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nlp
from nlp.analysis import MAX_ANALYZED_CHARS, MAX_SCREENED_CHARS, Analyzer, CommentAnalysis
from nlp.taxonomy import load_taxonomy


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("民警态度恶劣，出警太慢了", "negative"),
        ("不满意", "negative"),
        ("没有人联系我", "negative"),
        ("感谢民警同志", "positive"),
        ("非常满意", "positive"),
        ("一般", "neutral"),
        ("还行吧", "neutral"),
        ("无", "neutral"),
        ("態度很差，愛理不理的", "negative"),
        ("👍👍👍", "positive"),
    ],
)
def test_sentiment_label(analyzer: Analyzer, text: str, label: str) -> None:
    assert analyzer.analyze(text).sentiment_label == label


def test_milestone_comment(analyzer: Analyzer) -> None:
    result = analyzer.analyze("民警态度恶劣，出警太慢了")
    assert result.sentiment_label == "negative"
    assert {"服务态度", "出警速度"} <= set(result.categories)
    assert result.sentiment_score < 0.2


def test_score_orders_comments(analyzer: Analyzer) -> None:
    scores = [analyzer.analyze(t).sentiment_score for t in ("非常满意", "一般", "非常不满意")]
    assert scores[0] > scores[1] > scores[2]
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_result_shape(analyzer: Analyzer) -> None:
    result = analyzer.analyze("派出所民警索要红包，我要去纪委举报")
    assert isinstance(result, CommentAnalysis)
    assert result.is_urgent
    assert {flag.kind for flag in result.urgency_flags} >= {"integrity", "escalation"}
    assert "廉洁问题" in result.categories
    assert len(result.keywords) <= 5
    assert result.model_version == analyzer.model_version
    assert result.model_version.startswith("minyi-sent-")


def test_empty_text_is_neutral(analyzer: Analyzer) -> None:
    result = analyzer.analyze("   ")
    assert (result.sentiment_label, result.sentiment_score) == ("neutral", 0.5)
    assert result.categories == ()
    assert not result.is_urgent


@pytest.mark.parametrize("text", ["民警\ud800态度差", "\udfff", "a" * 5000, "👍" * 300, "\x00\x07报警"])
def test_odd_input_is_analysed_without_error(analyzer: Analyzer, text: str) -> None:
    assert 0.0 <= analyzer.analyze(text).sentiment_score <= 1.0


def test_analyze_many_keeps_order(analyzer: Analyzer) -> None:
    texts = ["很满意", "不满意", "很满意"]
    results = analyzer.analyze_many(texts)
    assert [r.sentiment_label for r in results] == ["positive", "negative", "positive"]


def test_default_analyzer_is_cached() -> None:
    assert nlp.get_default_analyzer() is nlp.get_default_analyzer()


def test_taxonomy_override(tmp_path: Path) -> None:
    data = json.loads((Path(nlp.__file__).parent / "resources" / "taxonomy.json").read_text("utf-8"))
    data["categories"].insert(0, {"name": "噪音扰民", "seeds": ["广场舞", "噪音"]})
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    custom = Analyzer.load(taxonomy=load_taxonomy(path))
    assert "噪音扰民" in custom.analyze("晚上广场舞噪音太大，报警了也没用").categories
    assert "+tax-" in custom.model_version


def test_missing_model_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Analyzer.load(tmp_path / "nope")


def test_rules_only_analyzer_works_without_models() -> None:
    rules = Analyzer()
    result = rules.analyze("民警态度恶劣，出警太慢了")
    assert result.sentiment_label == "negative"
    assert {"服务态度", "出警速度"} <= set(result.categories)
    assert "rules" in result.model_version


def test_only_the_first_characters_of_a_flood_are_analysed(analyzer: Analyzer) -> None:
    """A megabyte by SMS or API must not hold a scheduler for seconds."""
    assert analyzer.analyze("差" * 1_000_000) == analyzer.analyze("差" * MAX_ANALYZED_CHARS)


def test_the_rules_read_past_the_models_share_up_to_their_bound(analyzer: Analyzer) -> None:
    """A threat after a long complaint is flagged; a flood is screened only up to the bound."""
    padding = "出警太慢了，"
    late = padding * (MAX_ANALYZED_CHARS // len(padding) + 1) + "我要杀了他"
    assert len(late) > MAX_ANALYZED_CHARS
    assert [flag.kind for flag in analyzer.analyze(late).urgency_flags] == ["threat"]
    assert not analyzer.analyze("差" * MAX_SCREENED_CHARS + "我要杀了他").is_urgent
