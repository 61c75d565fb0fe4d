"""The request's notion of "now": the real clock, or a fixed one that tests inject.

Services take ``now`` as a parameter; views get it from here so a test can set
``app.config["CLOCK"]`` and drive the web and the scheduler jobs on one timeline.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from surveys.db import utcnow


def now() -> dt.datetime:
    """The current time as the app sees it (aware UTC)."""
    clock = current_app.config.get("CLOCK") or utcnow
    value: dt.datetime = clock()
    return value
