"""Build a process-wide resource once, even when several threads ask for it at the same time."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once(factory: Callable[[], T]) -> Callable[[], T]:
    """``functools.cache`` for a function of no arguments, with a lock around the first call.

    ``functools.cache`` lets threads that arrive together each run the factory: sixteen
    threads asking for the analyzer at start-up built it sixteen times (1.2 GB for a
    moment instead of 165 MB, and ten times the wait). Later calls take no lock.
    """
    lock = threading.Lock()
    built: list[T] = []

    @functools.wraps(factory)
    def get() -> T:
        if not built:
            with lock:
                if not built:
                    built.append(factory())
        return built[0]

    return get
