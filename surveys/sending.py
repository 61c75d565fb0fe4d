"""Sending a claimed batch: pace, call the provider, hand each outcome to the recorder.

Survey dispatch and the outbox (reminders, opt-out confirmations) both claim rows in one
transaction, send outside any transaction, and record each result in a transaction of
its own. This module is the middle step they share, with the lease and retry rules. It
never touches the database: a claim is committed before it runs, and every result is
recorded by the caller's callback before the next message is sent, so a crash loses at
most the message in flight, which its lease then declares ``unknown``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from surveys.sms.base import OutgoingSms, SendResult, SmsOutcomeUnknownError, SmsProvider, SmsSendError

log = logging.getLogger(__name__)

#: How long a claim may stay in ``sending`` before it is declared ``unknown``.
CLAIM_LEASE = dt.timedelta(minutes=10)
#: A message is not started when less than this is left of its claim's lease: the send
#: (10 s provider timeout) and its record must finish before the lease declares it lost.
LEASE_SAFETY_MARGIN = dt.timedelta(minutes=1)
#: Transient refusals are retried with capped exponential back-off, this many tries at most.
MAX_SEND_ATTEMPTS = 5
RETRY_BASE_DELAY = dt.timedelta(minutes=1)
RETRY_MAX_DELAY = dt.timedelta(hours=1)


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential back-off after ``attempts`` failed tries, capped."""
    delay: dt.timedelta = RETRY_BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX_DELAY)


@dataclass
class SendReport:
    """What one claim → send → record run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    released: int = 0

    def add(self, other: SendReport) -> None:
        """Accumulate another run of the same kind (draining runs batch after batch)."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class Clock:
    """Real time for pacing and lease checks; tests pass a fake one."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_CLOCK = Clock()


class SendJob(Protocol):
    """A claimed message: what to send and when (seconds after the claim)."""

    @property
    def message(self) -> OutgoingSms:
        """The message."""
        ...

    @property
    def send_offset(self) -> float:
        """Its slot, in seconds after the claim."""
        ...


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message."""

    result: SendResult


@dataclass(frozen=True)
class Refused:
    """The provider refused it; nothing reached the citizen."""

    error: SmsSendError


@dataclass(frozen=True)
class Lost:
    """The request may have gone out, but no answer came back."""

    error: SmsOutcomeUnknownError


@dataclass(frozen=True)
class Released:
    """Not attempted: too little of the lease was left, or its moment fell in quiet hours."""


Outcome = Sent | Refused | Lost | Released
JobT = TypeVar("JobT", bound=SendJob)


def send_claimed(
    provider: SmsProvider,
    jobs: Sequence[JobT],
    record: Callable[[JobT, Outcome, dt.timedelta], None],
    lease: dt.timedelta,
    may_send: Callable[[JobT, dt.timedelta], bool],
    clock: Clock = REAL_CLOCK,
) -> None:
    """Send ``jobs`` in order at their slots; ``record(job, outcome, elapsed)`` after each.

    ``elapsed`` is the time since the claim, so records carry the real send time even
    when a paced batch takes a minute. ``may_send(job, elapsed)`` is asked right before
    each send: a batch claimed at 20:59 must not go on texting after 21:00 because the
    provider was slow; a job it refuses is released, as one the lease has no room for.

    A provider that fails in a way its contract does not name (a bug, a 2xx reply that
    is not JSON) may have sent the message, so that job is recorded as lost, like a
    timeout, and the rest of the batch is released untried for the next run rather than
    lost one after another to the same fault.
    """
    started = clock.monotonic()
    broken = False
    for job in jobs:
        wait = started + job.send_offset - clock.monotonic()
        if not broken and wait > 0:
            clock.sleep(wait)
        elapsed = dt.timedelta(seconds=clock.monotonic() - started)
        if broken or elapsed + LEASE_SAFETY_MARGIN > lease or not may_send(job, elapsed):
            record(job, Released(), elapsed)
            continue
        outcome: Outcome
        try:
            outcome = Sent(provider.send(job.message))
        except SmsSendError as error:
            log.warning("%s %s refused: %s (%s)", job.message.kind, job.message.reference, error.code, error.kind)
            outcome = Refused(error)
        except SmsOutcomeUnknownError as error:
            log.error("%s %s outcome unknown: %s", job.message.kind, job.message.reference, error.message)
            outcome = Lost(error)
        except Exception as error:  # any other failure: see the docstring
            log.exception("%s %s: unexpected provider failure", job.message.kind, job.message.reference)
            unexpected = SmsOutcomeUnknownError(f"{type(error).__name__}: {error}"[:1000])
            unexpected.code = "provider_error"
            outcome, broken = Lost(unexpected), True
        record(job, outcome, dt.timedelta(seconds=clock.monotonic() - started))
