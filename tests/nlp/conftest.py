"""Fixtures for the nlp tests: the shipped analyzer (built once) and the data paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.analysis import Analyzer

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The shipped default analyzer; loading it once keeps the suite fast."""
    return Analyzer.load()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The development corpora beside the repository (CI has them)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"development corpora not found at {SHARED_DATA}")
    return SHARED_DATA
