"""Searches first: a build's Python work steps aside while a search of the same process runs.

CPython runs one thread's Python at a time (the GIL). A search gives the GIL up at every engine
call and at every NumPy call of the query's embedding, a hundred times or more per hybrid query,
and each time a build thread of the same process (a rebuild in an Odoo job thread, the bench's
second index) takes it and keeps it until CPython's switch interval (5 ms) makes it let go. The
search then waits a few milliseconds per call: at 20,000 products a hybrid query that took 9 ms
alone took 114 ms beside a busy Python thread, and 9 ms again when that thread stepped aside
(``bench/gil_contention.py``, ``bench/results/gil_contention_20k_v2.json``).

So searches announce themselves (:func:`searching`), and the loops of a build call
:func:`step_aside` between small units of work (a document's sparse vectors, a few points'
conversion): while a search runs, the build thread sleeps, without the GIL, until a search
finishes, and at most :data:`MAX_WAIT` at a time. With no search running, a step costs one
integer test. Under searches that never pause, a build still gets a share of the time
(:data:`YIELD_BUDGET`, :data:`RUN`); the embedding processes keep working meanwhile.

No package offers this: it is a property of one interpreter's threads, and the standard
library's ``threading.Condition`` does the waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MAX_WAIT", "RUN", "YIELD_BUDGET", "searching", "step_aside"]

#: The longest a build thread sleeps in one :func:`step_aside` (seconds): a search slower than this
#: (a remote embedder, a slow Redis) lets the build go on rather than stall it.
MAX_WAIT = 0.05
#: After stepping aside this long in all (seconds), a build thread runs :data:`RUN` seconds without
#: stepping aside: under searches that never pause, a build gets 2 ms in every 22 (searches back to back)
#: to 52 (one search that never ends, MAX_WAIT).
YIELD_BUDGET = 0.02
RUN = 0.002

_lock = threading.Lock()
_changed = threading.Condition(_lock)
_running = 0  # searches in progress in this process
_finished = 0  # searches finished so far
_local = threading.local()


@contextmanager
def searching() -> Iterator[None]:
    """Mark the current thread as searching, for the builds of this process to step aside."""
    global _running, _finished
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    if depth == 0:
        with _lock:
            _running += 1
    try:
        yield
    finally:
        _local.depth = depth
        if depth == 0:
            with _changed:
                _running -= 1
                _finished += 1
                _changed.notify_all()


def step_aside(limit: float = MAX_WAIT) -> None:
    """Sleep while a search runs in this process, until one finishes or ``limit`` seconds pass.

    A thread that has stepped aside for :data:`YIELD_BUDGET` seconds in all then runs for :data:`RUN`
    seconds without stepping aside, so a build still advances under a continuous stream of searches.
    """
    if not _running or getattr(_local, "depth", 0):  # nothing to wait for, or this thread is the search
        return
    started = time.monotonic()
    if started < getattr(_local, "running_until", 0.0):
        return
    with _changed:
        mark = _finished
        _changed.wait_for(lambda: not _running or _finished != mark, timeout=limit)
    now = time.monotonic()
    _local.waited = getattr(_local, "waited", 0.0) + now - started
    if _local.waited >= YIELD_BUDGET:
        _local.waited = 0.0
        _local.running_until = now + RUN
