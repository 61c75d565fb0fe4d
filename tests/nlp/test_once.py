"""Process-wide resources are built once, however many threads ask at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from nlp.once import once


def test_threads_asking_together_build_once() -> None:
    builds: list[int] = []
    start = threading.Barrier(8)

    @once
    def resource() -> object:
        builds.append(1)
        time.sleep(0.05)  # a slow build, so the threads overlap
        return object()

    def ask() -> object:
        start.wait(timeout=5)
        return resource()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: ask(), range(8)))
    assert len(builds) == 1
    assert all(result is results[0] for result in results)
