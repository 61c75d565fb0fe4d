"""Fixtures for the SMS providers: the official Twilio client against the Prism mock.

The mock (../shared/tools/twilio-mock) serves Twilio's own OpenAPI description; its HTTP
client refuses every host but Twilio's API, which it rewrites to the mock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
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
def twilio_mock_url() -> Iterator[str]:
    """The running mock, started on first use if it is not up yet, and then stopped after the run."""
    started = not _mock_answers()
    if started:
        subprocess.run([str(MOCK_DIR / "start-mock")], check=True, capture_output=True, timeout=300)  # noqa: S603
    assert _mock_answers(), f"Twilio mock not reachable at {MOCK_URL}"
    yield MOCK_URL
    if started:  # a mock someone else runs stays up
        subprocess.run([str(MOCK_DIR / "stop-mock")], check=False, capture_output=True, timeout=60)  # noqa: S603


@pytest.fixture(scope="session")
def mock_client_class() -> Any:
    """The shared tool's fail-closed HTTP client class (``MockTwilioHttpClient``)."""
    sys.path.insert(0, str(MOCK_DIR))
    try:
        from twilio_mock_client import MockTwilioHttpClient  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(MOCK_DIR))
    return MockTwilioHttpClient


@pytest.fixture
def twilio_http_client(twilio_mock_url: str, mock_client_class: Any) -> Any:
    """The shared tool's HTTP client pointed at the mock, remembering what it posted."""

    class RecordingClient(mock_client_class):  # type: ignore[misc,valid-type]
        last_data: dict[str, str] | None = None

        def request(self, method: str, url: str, params=None, data=None, **kwargs: Any):  # type: ignore[no-untyped-def]
            self.last_data = dict(data or {})
            return super().request(method, url, params=params, data=data, **kwargs)

    return RecordingClient(twilio_mock_url)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:<port>``: accepts connections and never answers (a read timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
