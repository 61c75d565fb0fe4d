"""Fixtures for the Twilio provider: the official client against the Prism mock.

The mock (../shared/tools/twilio-mock) serves Twilio's own OpenAPI description; its HTTP
client refuses every host but Twilio's API, which it rewrites to the mock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import SHARED_DIR

MOCK_DIR = SHARED_DIR / "tools" / "twilio-mock"
MOCK_URL = os.environ.get("TWILIO_MOCK_URL", "http://127.0.0.1:4010")


def _mock_answers() -> bool:
    try:
        urllib.request.urlopen(MOCK_URL, timeout=1)  # noqa: S310  (fixed local URL)
    except urllib.error.HTTPError:
        return True  # Prism answers 404 on "/": it is up
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def twilio_mock_url() -> str:
    """The running mock, started on first use if it is not up yet."""
    if not _mock_answers():
        subprocess.run([str(MOCK_DIR / "start-mock")], check=True, capture_output=True, timeout=300)  # noqa: S603
    assert _mock_answers(), f"Twilio mock not reachable at {MOCK_URL}"
    return MOCK_URL


@pytest.fixture
def twilio_http_client(twilio_mock_url: str) -> Any:
    """The shared tool's fail-closed HTTP client pointed at the mock."""
    sys.path.insert(0, str(MOCK_DIR))
    try:
        from twilio_mock_client import MockTwilioHttpClient  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(MOCK_DIR))
    return MockTwilioHttpClient(twilio_mock_url)
