"""Searches first: a build thread of the same process steps aside while a search runs (``priority``)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from odoo_search_lib import Settings
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.priority import searching, step_aside
from tests.conftest import MINI_CATALOGUE, HashingEmbedder


@contextmanager
def _search_in_another_thread() -> Iterator[threading.Event]:
    """A search that runs in its own thread until the yielded event is set."""
    inside, end = threading.Event(), threading.Event()

    def search() -> None:
        with searching():
            inside.set()
            end.wait(60)

    thread = threading.Thread(target=search)
    thread.start()
    assert inside.wait(10)
    try:
        yield end
    finally:
        end.set()
        thread.join(10)


def _in_thread(target: object) -> threading.Thread:
    thread = threading.Thread(target=target)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_a_build_step_waits_for_the_running_search_and_goes_on_when_it_ends() -> None:
    stepped = threading.Event()
    with _search_in_another_thread() as end:
        build = _in_thread(lambda: (step_aside(limit=60), stepped.set()))
        assert not stepped.wait(0.3), "the build went on while the search ran"
        end.set()
        assert stepped.wait(10)
    build.join(10)


def test_a_step_costs_nothing_without_a_search_and_never_waits_for_its_own_thread() -> None:
    done = threading.Event()

    def build() -> None:
        step_aside(limit=60)  # no search anywhere
        with searching():
            step_aside(limit=60)  # this thread is the search: waiting would be waiting for itself
        done.set()

    thread = _in_thread(build)
    assert done.wait(10)
    thread.join(10)


def test_a_search_that_never_ends_delays_a_build_but_never_stops_it() -> None:
    """Each step waits at most ``limit``; once a thread has stepped aside for YIELD_BUDGET in all, it runs
    RUN seconds without waiting. Without that share, 100 steps of 50 ms would take 5 s at the least."""
    elapsed = 0.0

    def build() -> None:
        nonlocal elapsed
        started = time.monotonic()
        for _ in range(100):
            step_aside(limit=0.05)
        elapsed = time.monotonic() - started

    with _search_in_another_thread():
        thread = _in_thread(build)
        thread.join(60)
        assert not thread.is_alive()
    assert elapsed < 2.5, f"every step waited: {elapsed:.2f} s"


def test_an_index_build_steps_aside_for_a_search(tmp_path: Path) -> None:
    settings = Settings.from_dict({"tenant": "shop", "store": {"path": str(tmp_path / "store")}})
    documents = [
        dataclasses.replace(MINI_CATALOGUE[n % len(MINI_CATALOGUE)], id=f"p{n}", name=f"Produto {n}")
        for n in range(2000)
    ]
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        encoded = threading.Event()
        with _search_in_another_thread() as end:
            build = _in_thread(lambda: (index.encode_sparse(documents), encoded.set()))
            # alone, the sparse vectors of 2,000 short products take a fraction of a second; beside a
            # search, each product waits for it first (a share of the time excepted)
            assert not encoded.wait(0.5)
            end.set()
            assert encoded.wait(60)
        build.join(10)
