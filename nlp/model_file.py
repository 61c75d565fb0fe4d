"""Reading a linear model's files (``<task>.json`` and ``<task>.npz``), checked.

A model directory is data an operator points the deployment at (``MINYI_NLP_MODEL_DIR``).
Everything the analyzer relies on is checked here before a model exists: an unchecked
NaN intercept made every comment negative and urgent, a short intercept or a 1-D
coefficient array failed deep inside the scorer, and a 10^8-entry array was read whole.
Every defect raises :class:`ModelFileError` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from nlp.features import BLOCK_ORDER, LEXICON_BLOCK, SPARSE_BLOCKS, FeatureConfig
from nlp.sentiment import SHORT_LABELS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from numpy.lib.npyio import NpzFile

FORMAT = "minyi-linear/1"
# Bounds of a model file, far above what we train (the shipped models: 8 classes, 43,342
# features, |weights| < 12). They are checked against the arrays' headers before any
# array is read, so a corrupt or hostile file is refused instead of allocating gigabytes.
MAX_CLASSES = 1_000
MAX_FEATURES = 5_000_000
MAX_COEFFICIENTS = 50_000_000  # classes × features: 400 MB as float64
MAX_TERM_CHARS = 256
MAX_NGRAM = 10
MAX_WEIGHT = 1e6
NPZ_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first bytes (the latter: empty)
# The tasks the analyzer loads and what their readers need of the classes: a model of
# another task (a category.json copied over sentiment.json) must not load as this one.
SENTIMENT_CLASSES = frozenset(SHORT_LABELS)
URGENCY_CALM_CLASS = "0"
ANALYZER_TASKS = ("sentiment", "category", "urgency")


class ModelFileError(ValueError):
    """A model file that the analyzer could not score with; the message names the file."""


class _Header(NamedTuple):
    task: str
    version: str
    classes: tuple[str, ...]
    multilabel: bool
    config: FeatureConfig
    blocks: dict[str, int]
    metadata: dict[str, Any]


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror  # the file is already named
    return str(error)


def _read_header(path: Path, task: str | None) -> _Header:
    """Parse and check a model header; raises ValueError saying what is wrong."""
    header = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    if header.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} model")
    types = {"task": str, "version": str, "classes": list, "multilabel": bool, "features": dict, "blocks": dict}
    for key, kind in types.items():
        if not isinstance(header.get(key), kind):
            raise ValueError(f"{key!r} is missing or not a {kind.__name__}")
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError("'metadata' is not an object")
    if task is not None and header["task"] != task:
        raise ValueError(f"a {header['task']!r} model where a {task!r} model belongs")
    classes = header["classes"]
    if not 2 <= len(classes) <= MAX_CLASSES or not all(isinstance(name, str) and name for name in classes):
        raise ValueError(f"'classes' must be 2 to {MAX_CLASSES} non-empty names")
    if len(set(classes)) != len(classes):
        raise ValueError("'classes' names a class twice")
    _check_task(header["task"], tuple(classes), header["multilabel"], metadata)
    blocks = header["blocks"]
    for block, count in blocks.items():
        if block not in BLOCK_ORDER:
            raise ValueError(f"unknown feature block {block!r} (known: {', '.join(BLOCK_ORDER)})")
        if type(count) is not int or count < 0:
            raise ValueError(f"block {block!r} has a term count of {count!r}")
    if sum(blocks.values()) > MAX_FEATURES:
        raise ValueError(f"{sum(blocks.values())} features, more than {MAX_FEATURES}")
    config = _feature_config(header["features"])
    if blocks.get(LEXICON_BLOCK) and not config.use_lexicon:
        raise ValueError("lexicon features listed but 'use_lexicon' is false")
    return _Header(
        task=header["task"],
        version=header["version"],
        classes=tuple(classes),
        multilabel=header["multilabel"],
        config=config,
        blocks=blocks,
        metadata=metadata,
    )


def _check_task(task: str, classes: tuple[str, ...], multilabel: bool, metadata: dict[str, Any]) -> None:
    """What the readers of the analyzer's tasks (nlp.sentiment, nlp.urgency) rely on."""
    if task not in ANALYZER_TASKS:
        return
    if multilabel:
        raise ValueError(f"a {task} model is single-label")
    if task == "sentiment" and not set(classes) <= SENTIMENT_CLASSES:
        raise ValueError(f"sentiment classes are two or three of neg, neu, pos, not {', '.join(classes)}")
    if task == "urgency":
        if URGENCY_CALM_CLASS not in classes:
            raise ValueError(f"urgency classes are {URGENCY_CALM_CLASS!r} and urgency kinds, not {', '.join(classes)}")
        threshold = metadata.get("threshold", 0.5)
        if type(threshold) not in (int, float) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"the urgency threshold {threshold!r} is not a probability")


def _feature_config(data: dict[str, Any]) -> FeatureConfig:
    """The stored feature configuration, each known field of its type and in range."""
    for name, default in asdict(FeatureConfig()).items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(default, bool):
            valid = isinstance(value, bool)
        elif isinstance(default, int):
            valid = type(value) is int and 1 <= value <= MAX_NGRAM
        else:
            valid = type(value) in (int, float) and math.isfinite(value)
        if not valid:
            raise ValueError(f"feature setting {name}={value!r} is invalid")
    config = FeatureConfig.from_json(data)
    if config.char_min > config.char_max or config.word_min > config.word_max:
        raise ValueError("a feature n-gram range has its minimum above its maximum")
    return config


def _read_arrays(
    arrays: NpzFile, header: _Header
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[str, list[str]], dict[str, npt.NDArray[np.float64]]]:
    """Coefficients, intercepts, terms and IDF, each checked against the header."""
    import numpy as np

    width = sum(header.blocks.values())
    shape, _ = _stored(arrays, "coef")
    binary = len(header.classes) == 2 and not header.multilabel
    if len(shape) != 2 or shape[0] not in {len(header.classes), 1 if binary else len(header.classes)}:
        raise ValueError(f"coef has shape {shape} for {len(header.classes)} classes and {width} features")
    rows = shape[0]
    if rows * width > MAX_COEFFICIENTS:
        raise ValueError(f"{rows} × {width} coefficients, more than {MAX_COEFFICIENTS}")
    coef = _checked(arrays, "coef", (rows, width), "f").astype(np.float64)
    intercept = _checked(arrays, "intercept", (rows,), "f").astype(np.float64)
    terms: dict[str, list[str]] = {}
    idf: dict[str, npt.NDArray[np.float64]] = {}
    for block, count in header.blocks.items():
        terms[block] = [str(term) for term in _checked(arrays, f"terms_{block}", (count,), "U").tolist()]
        if len(set(terms[block])) != count:
            raise ValueError(f"terms_{block} lists a term twice")
        if block in SPARSE_BLOCKS or f"idf_{block}" in arrays.files:
            idf[block] = _checked(arrays, f"idf_{block}", (count,), "f").astype(np.float64)
    return coef, intercept, terms, idf


def _stored(arrays: NpzFile, name: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and type of an array in the archive, read from its header alone."""
    import numpy as np

    if name not in arrays.files:
        raise ValueError(f"no array {name!r}")
    assert arrays.zip is not None  # noqa: S101 -- np.load of an .npz always sets it
    with arrays.zip.open(f"{name}.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"array {name!r} has .npy version {version}")
    return shape, dtype


def _checked(arrays: NpzFile, name: str, shape: tuple[int, ...], kind: str) -> npt.NDArray[Any]:
    """Read ``name`` once its header shows the expected shape and type (floats "f", text "U")."""
    import numpy as np

    stored_shape, dtype = _stored(arrays, name)
    if stored_shape != shape:
        raise ValueError(f"{name} has shape {stored_shape}, expected {shape}")
    if dtype.kind != kind:
        raise ValueError(f"{name} holds {dtype}, expected {'numbers' if kind == 'f' else 'text'}")
    if kind == "U" and dtype.itemsize // 4 > MAX_TERM_CHARS:
        raise ValueError(f"{name} holds terms of up to {dtype.itemsize // 4} characters, more than {MAX_TERM_CHARS}")
    array = arrays[name]
    if kind == "f" and array.size:
        if not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        if np.abs(array).max() > MAX_WEIGHT:
            raise ValueError(f"{name} holds values beyond ±{MAX_WEIGHT:g}")
    return array


class ModelFile(NamedTuple):
    """What a model's two files hold, checked against each other."""

    header: _Header
    coef: npt.NDArray[np.float64]
    intercept: npt.NDArray[np.float64]
    terms: dict[str, list[str]]
    idf: dict[str, npt.NDArray[np.float64]]


def read_model_file(path: Path, task: str | None = None) -> ModelFile:
    """Read and check the model at ``path`` (either file's name).

    ``task`` is the task the file is loaded as; by default the one its name gives
    (``sentiment.json``, as in a model directory), so a category model copied over a
    sentiment one is refused.
    """
    import numpy as np

    header_path, arrays_path = path.with_suffix(".json"), path.with_suffix(".npz")
    if task is None and path.stem in ANALYZER_TASKS:
        task = path.stem
    try:
        header = _read_header(header_path, task)
    except (OSError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise ModelFileError(f"{header_path}: {_reason(error)}") from error
    try:
        # An .npy would be read whole by np.load before any check: only archives pass.
        with arrays_path.open("rb") as handle:
            if handle.read(4) not in NPZ_SIGNATURES:
                raise ValueError("not an .npz archive")
        with np.load(arrays_path, allow_pickle=False) as arrays:
            coef, intercept, terms, idf = _read_arrays(arrays, header)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{arrays_path}: {_reason(error)}") from error
    return ModelFile(header, coef, intercept, terms, idf)


def replace_files(contents: Sequence[tuple[Path, bytes]]) -> None:
    """Write each ``(path, data)`` to a temporary file beside ``path``, then rename it over ``path``.

    A model directory in use (``MINYI_NLP_MODEL_DIR``) is read by every process that
    starts; written in place, a failure midway (a full disk, an interrupt, a crash)
    left a new header beside old arrays, a pair that refuses to load, and the
    deployment stopped analysing. Here every file is first written in full and synced
    under a temporary name in the same directory (so the rename stays on one file
    system), and only then is each renamed into place with ``os.replace``, which is
    atomic: a reader sees the old file or the new one, never part of one. A failure
    before the renames leaves every old file as it was and removes the temporary ones.

    The renames happen in the order given. Two files cannot be swapped in one atomic
    step, so list the file that makes the others count last: a model's arrays go
    before its header, because the analyzer takes a task from a directory only when it
    finds ``<task>.json``, so a new model appears complete or not at all. A replaced
    one is inconsistent only in the instant between the two renames: a reader that
    reads the header before it and the arrays after it, or a crash exactly there, gets
    new arrays under the old header, which the loader refuses when their sizes differ
    (header first would open the same instant the other way round). Closing it would
    take a header that names its arrays file, a format change; for files rewritten by
    an occasional retraining, two system calls apart was judged enough.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in contents:
            with tempfile.NamedTemporaryFile(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
            ) as handle:
                staged.append((handle.name, path))
                # The temporary file is private (0600); the model is read by the web and
                # scheduler processes, maybe as another user: keep the mode it had.
                os.chmod(handle.name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
