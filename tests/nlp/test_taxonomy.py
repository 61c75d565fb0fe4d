"""The taxonomy is data with validation an administrator can rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp import Analyzer
from nlp.taxonomy import Taxonomy, default_taxonomy, load_taxonomy

DEFAULT_NAMES = ("服务态度", "出警速度", "办案效率", "执法规范", "处理结果", "信息反馈", "廉洁问题", "其他")


def test_default_taxonomy() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.names == DEFAULT_NAMES
    assert taxonomy.fallback == "其他"
    assert all(c.seeds for c in taxonomy.categories if c.name != "其他")


def test_fallback_is_added_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"categories": [{"name": "A", "seeds": ["a"]}]}), encoding="utf-8")
    assert load_taxonomy(path).names == ("A", "其他")


@pytest.mark.parametrize(
    "data",
    [
        {"categories": []},
        {"categories": [{"name": "A"}, {"name": "A"}]},
        {"categories": [{"seeds": ["x"]}]},
        {"categories": [{"name": "A", "seeds": "x"}]},
    ],
)
def test_invalid_taxonomy_rejected(tmp_path: Path, data: object) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"categor|seeds|twice"):
        load_taxonomy(path)


def test_fingerprint_changes_with_seeds() -> None:
    taxonomy = default_taxonomy()
    assert len(taxonomy.fingerprint) == 8


def test_a_removed_categorys_comments_go_to_the_fallback_not_the_runner_up() -> None:
    """An audit found 民警收红包 filed under 信息反馈 once 廉洁问题 was removed."""
    shipped = default_taxonomy()
    kept = tuple(category for category in shipped.categories if category.name != "廉洁问题")
    analyzer = Analyzer.load(taxonomy=Taxonomy(categories=kept, fallback=shipped.fallback, version="test"))
    assert analyzer.analyze("民警收红包").categories == ("其他",)
    assert analyzer.analyze("出警太慢了，等了一个小时").categories[0] == "出警速度"
