"""How other Python work in the same process slows a search (the GIL), against the same work elsewhere.

    python bench/gil_contention.py --n 20000 --queries 100 [--json]

At N synthetic products (the catalogue of ``odoo-search bench``, dense vectors from its cache) it
times hybrid queries, query encoding included, while:

- ``idle``: nothing else runs;
- ``python_thread``: a thread of this process runs pure-Python work without a pause (BM25-encoding
  product texts in a loop), as a request rendering a page, the ORM reading records or a rebuild's
  own encoding does in a threaded Odoo server (``workers = 0``);
- ``python_thread_stepping_aside``: the same thread, calling ``priority.step_aside()`` between two
  texts as a build of this library does, so it sleeps while a query runs;
- ``python_process``: the same work runs in another process.

Beside each threaded mode, ``texts_per_s`` is the pace of that work meanwhile.

A query releases and takes back the GIL at every NumPy and engine call (the default model's forward
pass alone makes a hundred or more such calls); while another thread of the process computes in
Python, each take-back waits for CPython's switch interval (5 ms), so the query's time grows by up to
5 ms per call. Another process shares only the CPUs. Medians and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.synchronize
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import numpy as np

from odoo_search_lib import Settings
from odoo_search_lib.bench import (
    cached_vectors,
    default_cache_dir,
    fill_with_vectors,
    synthetic_catalogue,
    synthetic_queries,
)
from odoo_search_lib.config import StoreSettings
from odoo_search_lib.documents import sparse_text
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.priority import step_aside
from odoo_search_lib.sparse import BM25Encoder
from odoo_search_lib.text import Analyzer


def python_work(
    stop: Callable[[], bool], step: Callable[[], None] | None = None, done: list[int] | None = None
) -> None:
    """Pure-Python CPU work until ``stop()``: BM25 vectors of product texts (``step()`` before each; the
    count of texts encoded in ``done[0]``)."""
    encoder = BM25Encoder(Analyzer("pt"))
    texts = [sparse_text(doc) for doc in synthetic_catalogue(500, seed=99)]
    while not stop():
        for text in texts:
            if step is not None:
                step()
            encoder.encode_document(text)
            if done is not None:
                done[0] += 1


def _work_in_process(stop: multiprocessing.synchronize.Event) -> None:
    python_work(stop.is_set)


def time_queries(index: SearchIndex, queries: list[str]) -> dict[str, float]:
    index.cache.clear_local()  # every timed query pays for its own encoding
    samples = []
    for query in queries:
        started = time.perf_counter()
        index.search(query)
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50": round(float(np.percentile(samples, 50)), 2), "p95": round(float(np.percentile(samples, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    docs = list(synthetic_catalogue(args.n))
    queries = synthetic_queries(args.queries)
    result: dict[str, object] = {"n": args.n, "queries": args.queries, "switch_interval_s": sys.getswitchinterval()}
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings().replace(store=StoreSettings(path=tmp))) as index:
        fill_with_vectors(index, docs, cached_vectors(index.embedder, docs, default_cache_dir(), 7))
        index.warm_up()
        for query in queries[:20]:
            index.search(query)
        result["idle"] = time_queries(index, queries)

        for mode, step in (("python_thread", None), ("python_thread_stepping_aside", step_aside)):
            stop, done = threading.Event(), [0]
            worker = threading.Thread(target=python_work, args=(stop.is_set, step, done), daemon=True)
            worker.start()
            time.sleep(1.0)
            try:
                before, started = done[0], time.perf_counter()
                result[mode] = time_queries(index, queries)
                result[mode]["texts_per_s"] = round((done[0] - before) / (time.perf_counter() - started), 1)
            finally:
                stop.set()
                worker.join()

        halt = multiprocessing.get_context("spawn").Event()
        other = multiprocessing.get_context("spawn").Process(target=_work_in_process, args=(halt,), daemon=True)
        other.start()
        time.sleep(3.0)  # the spawned interpreter imports the library first
        try:
            result["python_process"] = time_queries(index, queries)
        finally:
            halt.set()
            other.join(30)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
