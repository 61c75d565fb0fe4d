"""Two budgets per client on the citizen pages: a guessing budget and a budget of writes.

Counted in the rate limiter's storage with its own strategy (``RATELIMIT_STORAGE_URI``,
``RATELIMIT_STRATEGY``) rather than with its route decorators, whose per-request
bookkeeping cost a quarter of the survey page's CPU:

- ``SURVEY_MISS_RATE_LIMIT``, used up only by lookups of unknown tokens (404) and tested
  on every request, so guessing stalls while citizens opening their real links never use
  it up, however many share one carrier address; once a guesser behind such an address
  has spent it, its neighbours get the 429 too until the window ends (docs/survey.md);
- ``SURVEY_RATE_LIMIT``, used up by every write (an answer, an opt-out). Reads of real
  links do not count: each one costs a counter increment, which the in-process storage
  pays for with a timer thread, and a flood of reads is the reverse proxy's to stop
  (docs/operations.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError

from webapp.extensions import limiter

logger = logging.getLogger(__name__)

WRITE_SCOPE = "citizen"
MISS_SCOPE = "citizen-token-miss"

#: Seconds between two warnings that the rate-limit store is down, per process.
STORE_DOWN_WARNING_INTERVAL = 60.0
_store_down_warned_at: float | None = None


def spent_budget(*, write: bool) -> RateLimitItem | None:
    """The limit this client has spent, else None; a ``write`` counts against its budget.

    The guessing budget is only tested here (a client that spent it gets nothing at all,
    real link or not); :func:`use_up_guess` counts against it.
    """
    limits = _limits()
    if limits is None:
        return None
    writes, misses = limits
    strategy = limiter.limiter
    with _counts_unless_store_down():
        for item in misses:
            if not strategy.test(item, *_identifiers(MISS_SCOPE)):
                return item
        if write:
            for item in writes:
                if not strategy.hit(item, *_identifiers(WRITE_SCOPE)):
                    return item
    return None


def use_up_guess() -> None:
    """Count a lookup of a token that matches no survey against this client's guessing budget."""
    limits = _limits()
    if limits is None:
        return
    strategy = limiter.limiter
    with _counts_unless_store_down():
        for item in limits[1]:
            strategy.hit(item, *_identifiers(MISS_SCOPE))


def _limits() -> tuple[tuple[RateLimitItem, ...], tuple[RateLimitItem, ...]] | None:
    """The parsed (writes, misses) limits of this app, or None when rate limiting is off."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    cache: dict[tuple[str, str], tuple[tuple[RateLimitItem, ...], tuple[RateLimitItem, ...]]]
    cache = current_app.extensions.setdefault("citizen_limits", {})
    source = (config["SURVEY_RATE_LIMIT"], config["SURVEY_MISS_RATE_LIMIT"])
    parsed = cache.get(source)
    if parsed is None:
        parsed = cache[source] = (tuple(parse_many(source[0])), tuple(parse_many(source[1])))
    return parsed


def _identifiers(scope: str) -> tuple[str, ...]:
    client = request.remote_addr or "127.0.0.1"  # as flask_limiter.util.get_remote_address
    prefix: str = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return (prefix, client, scope) if prefix else (client, scope)


@contextmanager
def _counts_unless_store_down() -> Iterator[None]:
    """Count against the budgets, or skip counting while the limiter's store is down.

    A citizen with a real link must be able to answer while Redis is restarting: the
    token's 72 random bits are what makes guessing useless, the budgets only slow it
    down. So a storage error lets the request through uncounted (logged at most once a
    minute per process) instead of answering 500. Once a staff page has met the error,
    Flask-Limiter counts in the process (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and
    ``limiter.limiter`` is that fallback, so the budgets are counted there meanwhile.
    """
    global _store_down_warned_at
    try:
        yield
    except StorageError as exc:
        now = time.monotonic()
        if _store_down_warned_at is None or now - _store_down_warned_at >= STORE_DOWN_WARNING_INTERVAL:
            _store_down_warned_at = now
            logger.warning("rate-limit store unreachable, citizen budgets not counted: %s", exc.storage_error)
