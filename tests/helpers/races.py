"""Work released at the same moment in several threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from storage.db import session_scope


def race(engine, *work: Callable) -> list:
    """Run each `work(session)` in its own thread and unit of work, all released at once;
    returns each one's result or the exception it raised."""
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)

    def run(i: int, fn: Callable) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                results[i] = fn(s)
        except Exception as e:  # noqa: BLE001 - the test looks at what each one got
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(work)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results
