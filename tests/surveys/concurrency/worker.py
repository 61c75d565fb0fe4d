"""A scheduler process for the multi-process tests: drain due surveys through a logging console.

Run as ``python worker.py DB_URL NOW LOG GO DELAY BATCH``. It waits for the file ``GO``
(so all workers start together), then dispatches batch after batch with the real
:func:`surveys.jobs.drain_due_surveys` until nothing is due, and prints its report as
JSON. The provider appends ``<token>`` to ``LOG`` and flushes before it returns: that
file is the outside world's record of what was sent, written even if the process is
killed before dispatch records the send.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

from surveys.db import make_engine, make_session_factory
from surveys.dispatch_settings import DispatchSettings
from surveys.jobs import JobContext, drain_due_surveys
from surveys.settings import load_settings
from surveys.sms.base import OutgoingSms, SendResult
from surveys.sms.console import ConsoleSmsProvider


class LoggingConsole(ConsoleSmsProvider):
    """The console provider, leaving a durable line per message (and taking ``delay`` seconds)."""

    def __init__(self, log_path: Path, delay_seconds: float) -> None:
        self._log = log_path.open("a", buffering=1, encoding="utf-8")
        self._delay = delay_seconds

    def send(self, message: OutgoingSms) -> SendResult:
        time.sleep(self._delay)
        self._log.write(f"{message.params['token']}\n")
        self._log.flush()
        return super().send(message)


def main(url: str, now_text: str, log: str, go: str, delay: str, batch: str) -> None:
    settings = load_settings(
        {"MINYI_DATABASE_URL": url, "MINYI_PUBLIC_BASE_URL": "http://minyi.test", "MINYI_DISPATCH_BATCH_SIZE": batch}
    )
    ctx = JobContext(
        session_factory=make_session_factory(make_engine(url, pool_size=2)),
        provider=LoggingConsole(Path(log), float(delay)),
        settings=settings,
        dispatch_settings=DispatchSettings(),
    )
    deadline = time.monotonic() + 30
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    report = drain_due_surveys(ctx, dt.datetime.fromisoformat(now_text))
    print(json.dumps(dataclasses.asdict(report)))


if __name__ == "__main__":
    main(*sys.argv[1:])
