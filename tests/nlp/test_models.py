"""Training, storage as plain data, and evaluation of the learned models."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.sparse import csr_matrix

from nlp.analysis import Analyzer, default_model_dir
from nlp.category import CategoryClassifier
from nlp.cli import nlp_group
from nlp.features import FeatureConfig, Featurizer
from nlp.lexicon import default_lexicon_scorer
from nlp.linear import LinearTextModel
from nlp.models.datasets import normalize_label, police_rows, read_labelled_csv, split_rows
from nlp.models.training import (
    LOGISTIC,
    NB_SVM,
    TRAINABLE_TASKS,
    TrainingConfig,
    _nb_ratio,
    train_category,
    train_model,
    train_sentiment,
)
from nlp.normalize import normalize_text
from nlp.taxonomy import Category, Taxonomy
from nlp.urgency import default_urgency_screen

POSITIVE = ["民警很热情", "出警非常及时", "处理得很好谢谢", "态度很好很耐心", "办事效率高", "非常满意感谢"]
NEGATIVE = ["民警态度很差", "出警太慢了", "处理结果不公平", "一直没人联系我", "办事拖拉推诿", "很不满意"]
NEUTRAL = ["一般", "还行吧", "没意见", "说不上", "就那样", "无"]


def small_rows() -> list[tuple[str, str]]:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE] + [(t, "neu") for t in NEUTRAL]
    return rows * 3


def test_train_model_writes_plain_data(tmp_path: Path) -> None:
    model = train_model("sentiment", small_rows(), tmp_path, base=False, version="test.1")
    assert (tmp_path / "sentiment.json").is_file()
    with np.load(tmp_path / "sentiment.npz", allow_pickle=False) as arrays:
        assert arrays["coef"].shape == (3, model.n_features)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["sentiment"]["version"] == "test.1"
    analyzer = Analyzer.load(tmp_path)
    assert "sent-test.1" in analyzer.model_version
    assert analyzer.analyze("民警态度很差").sentiment_label == "negative"


def test_saved_model_predicts_like_the_original(tmp_path: Path) -> None:
    model = train_model("sentiment", small_rows(), tmp_path, base=False)
    loaded = LinearTextModel.load(tmp_path / "sentiment.json")
    featurizer = Featurizer(FeatureConfig())
    features = featurizer.features("出警太慢了", ["出警", "太慢", "了"], None)
    original = model.predict_proba(features)
    for name, value in loaded.predict_proba(features).items():
        assert value == pytest.approx(original[name], abs=1e-4)


def test_train_category_multi_label_rows(tmp_path: Path) -> None:
    rows = [
        ("出警太慢了", "出警速度"),
        ("半小时才到现场", "出警速度"),
        ("态度恶劣爱答不理", "服务态度"),
        ("说话很冲不耐烦", "服务态度"),
        ("来得慢态度还差", "出警速度|服务态度"),
        ("谢谢", "其他"),
    ] * 3
    model = train_model("category", rows, tmp_path, base=False)
    assert set(model.classes) == {"出警速度", "服务态度", "其他"}
    categories = Analyzer.load(tmp_path).analyze("出警太慢了").categories
    assert categories[0] == "出警速度"


def test_untrainable_task() -> None:
    with pytest.raises(ValueError, match="trainable"):
        train_model("keywords", [], "unused")


@pytest.mark.parametrize(
    ("task", "raw", "label"),
    [
        ("sentiment", "1", "pos"),
        ("sentiment", "0", "neg"),
        ("sentiment", "Neutral", "neu"),
        ("urgency", "true", "1"),
        ("urgency", "self_harm", "self_harm"),
        ("urgency", " Threat ", "threat"),
        ("category", "服务态度| 出警速度", "服务态度|出警速度"),
    ],
)
def test_normalize_label(task: str, raw: str, label: str) -> None:
    assert normalize_label(task, raw) == label


def test_bad_label_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\n好,pos\n差,maybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv:3"):
        read_labelled_csv(path, "sentiment")


@pytest.mark.parametrize(("task", "message"), [("urgency", "blank urgency label"), ("sentiment", "label ''")])
def test_a_blank_label_is_refused_with_its_line(tmp_path: Path, task: str, message: str) -> None:
    """A row nobody labelled used to be a calm one for urgency."""
    path = tmp_path / "blank.csv"
    path.write_text("text,label\n出警很快,0\n我现在人就在天台上面,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"blank\.csv:3: ") as refused:
        read_labelled_csv(path, task)
    assert message in str(refused.value)


def test_police_split_is_stable_and_disjoint() -> None:
    train = police_rows("sentiment", "train")
    test = police_rows("sentiment", "test")
    if not train:
        pytest.skip("police corpus not present")
    assert not {t for t, _ in train} & {t for t, _ in test}
    assert 0.18 < len(test) / (len(train) + len(test)) < 0.22
    assert police_rows("sentiment", "test") == test


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_cli_evaluate_with_split(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "s.csv", small_rows())
    result = CliRunner().invoke(
        nlp_group, ["evaluate", "--task", "sentiment", str(data), "--split", "0.3", "--seed", "42"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("accuracy=")
    assert "macro_f1=" in lines[-1]
    assert any(line.startswith("snownlp_accuracy=") for line in lines)
    assert "confusion matrix" in result.output


def test_cli_evaluate_urgency_reports_recall(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "u.csv", [("我不想活了", "1"), ("出警很快", "0"), ("要去北京上访", "1")])
    result = CliRunner().invoke(nlp_group, ["evaluate", "--task", "urgency", str(data)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "accuracy=1.0000 macro_f1=1.0000 recall=1.0000"


def test_cli_evaluate_urgency_with_split_trains_the_net_on_the_rest(tmp_path: Path) -> None:
    """As for the other tasks: the rules screen as always, the learned net comes from the 80 %."""
    urgent = [("交警收了司机两百块就放走了", "integrity"), ("辅警收了五百块就不追究了", "integrity")] * 5
    calm = [(text, "0") for text in ("出警很快", "民警态度很好", "调解结果满意", "办证排队有点久", "一般")] * 4
    data = write_csv(tmp_path / "u.csv", urgent + calm)
    result = CliRunner().invoke(
        nlp_group, ["evaluate", "--task", "urgency", str(data), "--split", "0.2", "--seed", "42", "--no-base"]
    )
    assert result.exit_code == 0, result.output
    assert "trained on 24 rows, evaluating on 6" in result.output
    assert result.output.strip().splitlines()[-1].endswith("recall=1.0000")


@pytest.mark.parametrize(("flag", "shown"), [("--show-misses", True), ("--hide-misses", False)])
def test_cli_evaluate_urgency_lists_misses_unless_hidden(tmp_path: Path, flag: str, shown: bool) -> None:
    """A blind set stays blind: --hide-misses prints the totals without the missed texts."""
    data = write_csv(tmp_path / "u.csv", [("今天天气不错", "1"), ("出警很快", "0")])
    result = CliRunner().invoke(nlp_group, ["evaluate", "--task", "urgency", str(data), flag])
    assert result.exit_code == 0, result.output
    assert ("今天天气不错" in result.output) is shown
    assert result.output.strip().splitlines()[-1].endswith("recall=0.0000")


def test_cli_train_then_evaluate(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "s.csv", small_rows())
    out = tmp_path / "model"
    runner = CliRunner()
    trained = runner.invoke(
        nlp_group, ["train", "--task", "sentiment", "--csv", str(data), "--no-base", "--out", str(out)]
    )
    assert trained.exit_code == 0, trained.output
    assert (out / "sentiment.npz").is_file()
    evaluated = runner.invoke(
        nlp_group, ["evaluate", "--task", "sentiment", str(data), "--model", str(out), "--no-snownlp"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert float(evaluated.output.strip().splitlines()[-1].split()[0].split("=")[1]) > 0.8


ONE_CLASS = [("很好", "pos"), ("不错", "pos"), ("满意", "pos")]


@pytest.mark.parametrize(
    ("args", "rows", "message"),
    [
        (["evaluate", "--task", "sentiment", "{csv}"], [("很好", "great")], "data.csv:2: unknown sentiment label"),
        (["evaluate", "--task", "sentiment", "{csv}", "--split", "0.2"], [("很好", "pos")], "cannot split"),
        (["evaluate", "--task", "sentiment", "{csv}", "--split", "0.3"], ONE_CLASS, "need at least two sentiment"),
        (["evaluate", "--task", "sentiment", "{csv}", "--model", "{broken}"], ONE_CLASS, "a 'category' model where"),
        (["analyze", "--model", "{broken}", "很好"], [], "sentiment.json: a 'category' model where"),
        (["train", "--task", "sentiment", "--csv", "{csv}", "--out", "{out}"], [("很好", "maybe")], "label 'maybe'"),
        (
            ["train", "--task", "sentiment", "--csv", "{csv}", "--no-base", "--out", "{out}"],
            ONE_CLASS,
            "cannot train sentiment: need at least two sentiment labels",
        ),
        (
            ["train", "--task", "category", "--csv", "{csv}", "--no-base", "--out", "{out}"],
            [("出警太慢", "出警速度"), ("民警态度太差", "服务太度")],
            "cannot train category: row 2 ('民警态度太差'): unknown category '服务太度'",
        ),
        (["train", "--task", "sentiment", "--csv", "{csv}", "--out", "{out}"], [], "no rows in {csv}"),
        (["evaluate", "--task", "urgency", "{csv}"], [], "no rows in {csv}"),
        (
            ["evaluate", "--task", "category", "{csv}"],
            [("出警太慢", "出警速度"), ("民警态度太差", "neg")],
            "label 'neg' ('民警态度太差') names no category of the model's taxonomy (服务态度, 出警速度,",
        ),
        (
            ["evaluate", "--task", "category", "{csv}", "--split", "0.5", "--model", "default"],
            [("出警太慢", "出警速度"), ("民警态度太差", "服务太度")] * 2,
            "label '服务太度'",
        ),
    ],
    ids=[
        "bad label",
        "one row split",
        "one class",
        "broken model",
        "analyze broken model",
        "train bad label",
        "train one class",
        "train unknown category",
        "train header only",
        "evaluate header only",
        "evaluate a model on foreign categories",
        "evaluate a model on a split of foreign categories",
    ],
)
def test_cli_bad_input_is_a_one_line_error_not_a_traceback(
    tmp_path: Path, args: list[str], rows: list[tuple[str, str]], message: str
) -> None:
    data = write_csv(tmp_path / "data.csv", rows)
    broken = tmp_path / "broken"  # the shipped category model copied over sentiment's
    broken.mkdir()
    for suffix in (".json", ".npz"):
        shutil.copy(default_model_dir() / f"category{suffix}", broken / f"sentiment{suffix}")
    out = tmp_path / "model"
    result = CliRunner().invoke(nlp_group, [arg.format(csv=data, broken=broken, out=out) for arg in args])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert message.format(csv=data) in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--task", "sentiment", "--csv", "{csv}", "--out", "{out}"],
        ["evaluate", "--task", "sentiment", "{csv}"],
    ],
    ids=["train", "evaluate"],
)
def test_a_csv_that_is_not_utf8_is_named(tmp_path: Path, args: list[str]) -> None:
    """Excel saves GBK; the codec's own message named neither the file nor the fix."""
    data = tmp_path / "gbk.csv"
    data.write_bytes("text,label\n民警态度很好,pos\n".encode("gbk"))
    out = tmp_path / "model"
    result = CliRunner().invoke(nlp_group, [arg.format(csv=data, out=out) for arg in args])
    assert result.exit_code == 1
    assert f"{data}: not UTF-8" in result.output
    assert "save the CSV as UTF-8" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("label", "unknown"),
    [("服务太度", "'服务太度'"), ("foo|bar", "'foo', 'bar'"), ("服务态度|出警速 度", "'出警速 度'")],
)
def test_category_training_refuses_names_outside_the_taxonomy(label: str, unknown: str) -> None:
    """A typo used to become a class of its own, one the analyzer can never report."""
    rows = [("出警太慢了", "出警速度"), ("民警态度太差", label), ("谢谢", "其他")]
    with pytest.raises(ValueError, match="unknown category") as refused:
        train_category(rows, base=False)
    assert f"row 2 ('民警态度太差'): unknown category {unknown} in label {label!r}" in str(refused.value)
    assert "the taxonomy has 服务态度, 出警速度, 办案效率" in str(refused.value)
    custom = Taxonomy(
        categories=(Category("服务太度", "", ()), Category("出警速度", "", ()), Category("其他", "", ())),
        fallback="其他",
        version="t",
    )
    assert (
        "服务太度"
        in train_category(rows[:1] + rows[2:] + [("态度差", "服务太度")], base=False, taxonomy=custom).classes
    )


def test_cli_evaluate_trains_on_a_foreign_label_set(tmp_path: Path) -> None:
    """Evaluating another taxonomy's labels (tipdm's) builds a taxonomy of them, not an error."""
    rows = [("小区垃圾没人清理", "城乡建设"), ("学校收费太高", "教育文体"), ("道路积水严重", "城乡建设")]
    rows += [("孩子入学难", "教育文体")]
    data = write_csv(tmp_path / "foreign.csv", rows * 4)
    result = CliRunner().invoke(nlp_group, ["evaluate", "--task", "category", str(data), "--split", "0.25"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("accuracy=")


def test_split_rows_is_stratified(tmp_path: Path) -> None:
    table = read_labelled_csv(write_csv(tmp_path / "s.csv", small_rows()), "sentiment")
    train, test = split_rows(table, 0.2, 42)
    assert {label for _, label in test} == {"pos", "neg", "neu"}
    assert len(train) + len(test) == len(table.rows)


def test_urgency_net_flags_what_rules_miss(tmp_path: Path) -> None:
    urgent = ["交警收了司机两百块就放走了", "辅警收了五百块就不追究了", "窗口的人收了三百块当天就办好"]
    calm = ["出警很快", "民警态度很好", "调解结果满意", "办证排队有点久", "还没有人联系我", "一般"]
    rows = [(t, "integrity") for t in urgent] * 3 + [(t, "0") for t in calm] * 3
    train_model("urgency", rows, tmp_path, base=False, version="u.1")
    analyzer = Analyzer.load(tmp_path)
    assert ".u.1+lex-" in analyzer.model_version  # the urgency rules, then their net
    (flag,) = analyzer.analyze("那个协警揣了司机四百块就放行了").urgency_flags
    assert flag.kind == "integrity"
    assert flag.label.endswith("（模型）")
    assert flag.evidence
    assert not analyzer.analyze("出警很快，态度很好").is_urgent


UNFLAGGED_URGENT = [
    "天台的风好大，我已经站到边上了",
    "风好大，我已经站到栏杆外面了",
    "站在栏杆外面风很大，下面的车好小",
]
CALM = ["出警很快", "民警态度很好", "调解结果满意", "办证排队有点久", "还没有人联系我", "一般"]


def test_urgent_rows_the_rules_miss_teach_the_net(tmp_path: Path) -> None:
    """They used to be skipped, so the net could never learn wording the rules lack."""
    assert not any(default_urgency_screen().screen(normalize_text(text)) for text in UNFLAGGED_URGENT)
    rows = [(t, "1") for t in UNFLAGGED_URGENT] * 3 + [("他说要弄死我", "threat")] * 3 + [(t, "0") for t in CALM] * 3
    model = train_model("urgency", rows, tmp_path, base=False, version="u.2")
    assert model.metadata["sources"] == {"rows": 21, "rows_kind_from_net": 9}
    assert model.classes == ("0", "threat")  # the only kind this run knows
    analyzer = Analyzer.load(tmp_path)
    (flag,) = analyzer.analyze("我一个人站在栏杆外面了，你们别找我").urgency_flags
    assert flag.label.endswith("（模型）")
    assert not analyzer.analyze("出警很快，态度很好，谢谢你们").is_urgent


def test_cli_trains_urgency_from_urgent_rows_no_rule_flags_without_base(tmp_path: Path) -> None:
    """Without a row of known kind the shipped net names the kinds; labels may be kinds too."""
    rows = [(t, "1") for t in UNFLAGGED_URGENT] * 2 + [("他说要弄死我", "self_harm")] + [(t, "0") for t in CALM]
    data = write_csv(tmp_path / "u.csv", rows)
    out = tmp_path / "model"
    result = CliRunner().invoke(
        nlp_group, ["train", "--task", "urgency", "--csv", str(data), "--no-base", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "rows used: 13 (rows=7 rows_kind_from_net=6)" in result.output
    model = LinearTextModel.load(out / "urgency.json")
    assert "self_harm" in model.classes
    only_missed = write_csv(tmp_path / "missed.csv", [(t, "1") for t in UNFLAGGED_URGENT] + [(t, "0") for t in CALM])
    result = CliRunner().invoke(
        nlp_group, ["train", "--task", "urgency", "--csv", str(only_missed), "--no-base", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "rows_kind_from_net=3" in result.output


def test_cli_evaluates_urgency_labelled_by_kind(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "u.csv", [("我不想活了", "self_harm"), ("出警很快", "0"), ("要去北京上访", "1")])
    result = CliRunner().invoke(nlp_group, ["evaluate", "--task", "urgency", str(data)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "accuracy=1.0000 macro_f1=1.0000 recall=1.0000"


def test_training_config_rejects_unknown_models() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        TrainingConfig(models=(("svm", 1.0),))
    with pytest.raises(ValueError, match="empty"):
        TrainingConfig(models=())


def test_nb_ratio_favours_the_class_a_feature_belongs_to() -> None:
    # Columns: seen only in the class, only outside it, in both.
    matrix = csr_matrix(np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]))
    positive = np.array([True, True, False, False])
    ratio = _nb_ratio(matrix, positive, np.ones(4), alpha=1.0)
    assert ratio[0] > 0 > ratio[1]
    assert ratio[2] == pytest.approx(0.0)
    # Weights count like repeated rows.
    weighted = _nb_ratio(matrix, positive, np.array([3.0, 3.0, 1.0, 1.0]), alpha=1.0)
    assert weighted[1] < ratio[1]


def test_blend_is_the_mean_of_its_members_logits() -> None:
    def coefficients(models: tuple[tuple[str, float], ...]) -> LinearTextModel:
        return train_sentiment(small_rows(), base=False, config=TrainingConfig(models=models), version="t")

    svm = coefficients(((NB_SVM, 0.3),))
    logistic = coefficients(((LOGISTIC, 10.0),))
    blend = coefficients(((NB_SVM, 0.3), (LOGISTIC, 10.0)))
    assert blend.terms == svm.terms == logistic.terms
    np.testing.assert_allclose(blend.coef, (svm.coef + logistic.coef) / 2)
    np.testing.assert_allclose(blend.intercept, (svm.intercept + logistic.intercept) / 2)
    assert blend.metadata["temperatures"][1] == 1.0
    assert blend.metadata["config"]["models"] == [[NB_SVM, 0.3], [LOGISTIC, 10.0]]


def test_nb_svm_probabilities_are_tempered() -> None:
    # On a toy set the SVM separates everything; the out-of-fold temperature still keeps
    # the probabilities of an unseen comment away from 0 and 1, and the label right.
    model = train_sentiment(small_rows(), base=False, version="t")
    (temperature,) = model.metadata["temperatures"]
    assert 0 < temperature < np.exp(4.0)
    featurizer = Featurizer(model.config)
    probabilities = model.predict_proba(featurizer.features("态度很差", ["态度", "很", "差"], None))
    assert max(probabilities, key=probabilities.__getitem__) == "neg"
    assert 0.01 < probabilities["neg"] < 0.999


def test_binary_nb_svm_has_one_row_for_the_second_class(tmp_path: Path) -> None:
    rows = [(t, "pos") for t in POSITIVE] * 3 + [(t, "neg") for t in NEGATIVE] * 3
    model = train_model("sentiment", rows, tmp_path, base=False)
    assert model.classes == ("neg", "pos")
    assert model.coef.shape[0] == 1
    analyzer = Analyzer.load(tmp_path)
    assert analyzer.analyze("民警很热情").sentiment_score > 0.5 > analyzer.analyze("民警态度很差").sentiment_score


def test_second_category_needs_a_seed_of_each_named_problem() -> None:
    # A model that always answers A 0.80, B 0.15, 其他 0.05, whatever the comment.
    probabilities = np.array([0.80, 0.15, 0.05])
    model = LinearTextModel(
        task="category",
        version="t",
        classes=("A", "B", "其他"),
        multilabel=False,
        config=FeatureConfig(),
        terms={},
        idf={},
        coef=np.zeros((3, 0)),
        intercept=np.log(probabilities),
        metadata={"multi_category": True},
    )
    taxonomy = Taxonomy(
        categories=(
            Category("A", "", ("慢",)),
            Category("B", "", ("差",)),
            Category("新", "", ("噪音",)),
            Category("其他", "", ()),
        ),
        fallback="其他",
        version="t",
    )
    classifier = CategoryClassifier(taxonomy, model)
    features: dict[str, dict[str, float]] = {}
    assert classifier.classify("来得慢态度差", features) == ("A", "B")
    # The runner-up's seed alone is not enough at 0.15 (the main category has none) ...
    assert classifier.classify("态度差", features) == ("A",)
    assert classifier.classify("来得慢", features) == ("A",)
    # ... except for a category the model does not know: its seed is all there is.
    assert classifier.classify("噪音太大", features) == ("A", "新")


def test_lexicon_features_carry_urgency_kinds_rating_and_short_replies() -> None:
    featurizer = Featurizer(FeatureConfig())
    scorer = default_lexicon_scorer()
    text = normalize_text("民警收红包")
    dense = featurizer.lexicon_features(text, scorer.score(text), ["integrity"])
    assert dense["urgent"] == 1.0
    assert dense["urgent_integrity"] == 1.0
    rated = featurizer.lexicon_features("5分", scorer.score("5分"))
    assert rated["rated"] == 1.0
    assert rated["rating"] == 1.0
    short = featurizer.lexicon_features("不好", scorer.score("不好"))
    assert short["short_score"] < 0
    assert "short_score" not in featurizer.lexicon_features("民警态度很不好啊", scorer.score("民警态度很不好啊"))


def test_seed_hits_count_each_seed_present_once_in_taxonomy_order() -> None:
    taxonomy = Taxonomy(
        categories=(
            Category("速度", "", ("慢", "出警慢", "等了")),
            Category("态度", "", ("态度差", "差")),
            Category("其他", "", ("慢",)),  # the fallback's seeds are never counted
        ),
        fallback="其他",
        version="t",
    )
    classifier = CategoryClassifier(taxonomy)
    # Overlapping seeds (出警慢 and 慢) both count; a seed seen twice counts once.
    assert classifier.seed_hits("态度差，出警慢，慢慢慢") == {"速度": 2, "态度": 2}
    assert list(classifier.seed_hits("差得很，等了半天")) == ["速度", "态度"]
    assert classifier.seed_hits("挺好") == {}
    assert classifier.seed_hits("") == {}


@pytest.mark.parametrize("task", TRAINABLE_TASKS)
def test_the_shipped_model_is_what_its_rebuild_command_gives(tmp_path: Path, task: str) -> None:
    """``minyi nlp train --task T`` (docs/nlp.md) must rebuild the shipped file from main.

    A change to normalisation, features or the corpus that alters training shows up
    here, so the shipped model is retrained with it rather than silently going stale.
    """
    shipped = LinearTextModel.load(default_model_dir() / f"{task}.json")
    train_model(task, [], tmp_path, version=shipped.version)
    rebuilt = LinearTextModel.load(tmp_path / f"{task}.json")
    assert rebuilt.terms == shipped.terms
    # Identical here; the tolerance is for another machine's floating-point library.
    assert np.allclose(rebuilt.coef, shipped.coef, rtol=1e-4, atol=1e-6)
    assert np.allclose(rebuilt.intercept, shipped.intercept, rtol=1e-4, atol=1e-6)
    assert rebuilt.metadata == shipped.metadata | {"trained_at": rebuilt.metadata["trained_at"]}
