"""Model files are checked when loaded: a broken one is refused, naming the file and the defect."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlp.analysis import Analyzer, default_model_dir
from nlp.linear import LinearTextModel
from nlp.model_file import ModelFileError

Header = dict[str, Any]
Arrays = dict[str, np.ndarray]


def broken_copy(
    directory: Path,
    task: str,
    header: Callable[[Header], object] | None = None,
    arrays: Callable[[Arrays], object] | None = None,
    source: str | None = None,
) -> Path:
    """Copy the shipped ``source`` model (default: ``task``'s) as ``directory/<task>``, altered."""
    source_path = default_model_dir() / (source or task)
    directory.mkdir(exist_ok=True)
    data = json.loads(source_path.with_suffix(".json").read_text(encoding="utf-8"))
    if header is not None:
        header(data)
    (directory / f"{task}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with np.load(source_path.with_suffix(".npz"), allow_pickle=False) as stored:
        loaded = {name: stored[name] for name in stored.files}
    if arrays is not None:
        arrays(loaded)
    np.savez_compressed(directory / f"{task}.npz", **loaded)
    return directory / f"{task}.json"


def _duplicate_term(arrays: Arrays) -> None:
    terms = arrays["terms_c"].copy()
    terms[1] = terms[0]
    arrays["terms_c"] = terms


HEADER_DEFECTS: list[tuple[str, Callable[[Header], object], str]] = [
    ("no blocks", lambda h: h.pop("blocks"), "'blocks' is missing"),
    ("version not text", lambda h: h.update(version=7), "'version' is missing or not a str"),
    ("metadata a list", lambda h: h.update(metadata=[["a", 1]]), "'metadata' is not an object"),
    ("char_max as text", lambda h: h["features"].update(char_max="3"), "char_max='3'"),
    ("negative char_min", lambda h: h["features"].update(char_min=-5), "char_min=-5"),
    ("n-gram range upside down", lambda h: h["features"].update(char_min=3, char_max=2), "minimum above"),
    ("foreign classes", lambda h: h.update(classes=["a", "b", "c"]), "sentiment classes are two or three"),
    ("classes repeated", lambda h: h.update(classes=["neg", "neg", "pos"]), "names a class twice"),
    ("multi-label sentiment", lambda h: h.update(multilabel=True), "single-label"),
    ("unknown block", lambda h: h["blocks"].update(x=0), "unknown feature block 'x'"),
    ("lexicon terms unused", lambda h: h["features"].update(use_lexicon=False), "'use_lexicon' is false"),
]
ARRAY_DEFECTS: list[tuple[str, Callable[[Header], object] | None, Callable[[Arrays], object], str]] = [
    ("NaN intercept", None, lambda a: a["intercept"].fill(np.nan), "intercept holds NaN or infinite values"),
    ("infinite coefficient", None, lambda a: a["coef"].__setitem__((0, 0), np.inf), "coef holds NaN"),
    ("NaN IDF", None, lambda a: a["idf_w"].__setitem__(3, np.nan), "idf_w holds NaN"),
    ("absurd weight", None, lambda a: a["coef"].__setitem__((0, 0), 1e9), "coef holds values beyond"),
    ("1-D coefficients", None, lambda a: a.update(coef=a["coef"][0]), "coef has shape (12361,)"),
    ("short intercept", None, lambda a: a.update(intercept=a["intercept"][:2]), "intercept has shape (2,)"),
    ("two classes, three rows", lambda h: h.update(classes=["neg", "pos"]), lambda a: None, "coef has shape (3,"),
    ("terms fewer than columns", None, lambda a: a.update(terms_c=a["terms_c"][:-1]), "terms_c has shape (8550,)"),
    ("a term twice", None, _duplicate_term, "terms_c lists a term twice"),
    ("no IDF", None, lambda a: a.pop("idf_c"), "no array 'idf_c'"),
    ("pickled terms", None, lambda a: a.update(terms_c=a["terms_c"].astype(object)), "terms_c holds object"),
    ("huge terms", None, lambda a: a.update(terms_w=a["terms_w"].astype("<U5000")), "up to 5000 characters"),
    ("intercept as text", None, lambda a: a.update(intercept=a["intercept"].astype(str)), "expected numbers"),
]


@pytest.mark.parametrize(
    ("header", "message"), [case[1:] for case in HEADER_DEFECTS], ids=[case[0] for case in HEADER_DEFECTS]
)
def test_a_broken_header_is_refused(tmp_path: Path, header: Callable[[Header], object], message: str) -> None:
    path = broken_copy(tmp_path, "sentiment", header=header)
    with pytest.raises(ModelFileError, match=f"^{path}: ") as refused:
        LinearTextModel.load(path)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("header", "arrays", "message"), [case[1:] for case in ARRAY_DEFECTS], ids=[case[0] for case in ARRAY_DEFECTS]
)
def test_broken_arrays_are_refused(
    tmp_path: Path, header: Callable[[Header], object] | None, arrays: Callable[[Arrays], object], message: str
) -> None:
    path = broken_copy(tmp_path, "sentiment", header=header, arrays=arrays)
    with pytest.raises(ModelFileError) as refused:
        LinearTextModel.load(path)
    assert str(refused.value).startswith(f"{path.with_suffix('')}.")  # the .json or the .npz
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [("[1, 2]", "the header is not a JSON object"), ("{", "Expecting property name"), ('{"format": "x"}', "not a")],
)
def test_a_header_that_is_no_model_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = broken_copy(tmp_path, "sentiment")
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError, match=message):
        LinearTextModel.load(path)


def test_a_model_of_another_task_is_refused(tmp_path: Path) -> None:
    """A category model copied over sentiment.json used to score every comment 0.0."""
    path = broken_copy(tmp_path, "sentiment", source="category")
    with pytest.raises(ModelFileError, match="a 'category' model where a 'sentiment' model belongs"):
        LinearTextModel.load(path)
    renamed = tmp_path / "any-name.json"
    path.rename(renamed)
    path.with_suffix(".npz").rename(renamed.with_suffix(".npz"))
    assert LinearTextModel.load(renamed).task == "category"  # a name that is no task: no expectation
    with pytest.raises(ModelFileError, match="where a 'sentiment' model belongs"):
        LinearTextModel.load(renamed, task="sentiment")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (lambda h: h.update(classes=["calm", *h["classes"][1:]]), "urgency classes are '0'"),
        (lambda h: h["metadata"].update(threshold="abc"), "threshold 'abc' is not a probability"),
        (lambda h: h["metadata"].update(threshold=2), "threshold 2 is not a probability"),
    ],
)
def test_an_urgency_model_needs_its_calm_class_and_a_threshold(
    tmp_path: Path, header: Callable[[Header], object], message: str
) -> None:
    with pytest.raises(ModelFileError, match=message):
        LinearTextModel.load(broken_copy(tmp_path, "urgency", header=header))


def test_an_absurd_size_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    """The array header alone decides: an intercept declaring 10^12 entries is not read."""
    path = broken_copy(tmp_path, "sentiment", arrays=lambda a: a.pop("intercept"))
    with zipfile.ZipFile(path.with_suffix(".npz"), "a") as archive, archive.open("intercept.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with pytest.raises(ModelFileError, match=r"intercept has shape \(1000000000000,\), expected \(3,\)"):
        LinearTextModel.load(path)


def test_missing_or_foreign_arrays_are_refused(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "sentiment")
    path.with_suffix(".npz").unlink()
    with pytest.raises(ModelFileError, match=r"sentiment\.npz: No such file"):
        LinearTextModel.load(path)
    with path.with_suffix(".npz").open("wb") as handle:
        np.save(handle, np.zeros(3))  # an .npy under the archive's name
    with pytest.raises(ModelFileError, match=r"not an \.npz archive"):
        LinearTextModel.load(path)


def test_the_shipped_models_load_as_stored() -> None:
    for task in ("sentiment", "category", "urgency"):
        path = default_model_dir() / f"{task}.json"
        model = LinearTextModel.load(path)
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as stored:
            assert np.array_equal(model.coef, stored["coef"].astype(np.float64))
            assert np.array_equal(model.intercept, stored["intercept"])
            assert model.terms["c"] == stored["terms_c"].tolist()


def test_a_broken_file_in_a_model_directory_is_an_error_naming_it(tmp_path: Path) -> None:
    """No fallback to the shipped model, and no NaN model making every answer urgent."""
    broken_copy(tmp_path, "sentiment")
    path = broken_copy(tmp_path, "urgency", arrays=lambda a: a["intercept"].fill(np.nan))
    with pytest.raises(ModelFileError, match=f"^{path.with_suffix('.npz')}: intercept holds NaN"):
        Analyzer.load(tmp_path)


def test_a_missing_task_still_comes_from_the_shipped_model(tmp_path: Path) -> None:
    broken_copy(tmp_path, "sentiment")
    analyzer = Analyzer.load(tmp_path)
    assert analyzer.model_version == Analyzer.load().model_version
