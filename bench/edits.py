"""What edits after a full build cost on the embedded store, and what the optimiser costs.

    python bench/edits.py [--n 30000] [--queries 50] [--json]

Writes N synthetic products through upserts only (as the Odoo outbox does after edits, no
reindex), then reports the median hybrid query on that unoptimised segment, the time of
``optimize()``, how many searches another thread completed while it ran, and the median after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time

from odoo_search_lib import SearchIndex, Settings
from odoo_search_lib.bench import cached_vectors, default_cache_dir, synthetic_catalogue, synthetic_queries
from odoo_search_lib.store import Point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    docs = list(synthetic_catalogue(args.n))
    queries = synthetic_queries(args.queries)
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings.from_dict({"store": {"path": tmp}})) as index:
        vectors = cached_vectors(index.embedder, docs, default_cache_dir(), 7)
        index.upsert([])
        collection = index.collection()
        for start in range(0, len(docs), 1000):
            sparse = index.encode_sparse(docs[start : start + 1000])
            index.store.upsert(
                collection,
                [Point(p.doc_id, v, p.bm25, p.chars, p.payload) for p, v in zip(sparse, vectors[start:], strict=False)],
            )

        def median_ms() -> float:
            samples = []
            for query in queries:
                started = time.perf_counter()
                index.search(query)
                samples.append((time.perf_counter() - started) * 1000)
            return round(statistics.median(samples), 2)

        before = median_ms()
        done = threading.Event()
        during: list[float] = []
        timing: dict[str, float] = {}

        def optimise() -> None:
            started = time.perf_counter()
            index.store.optimize(collection)
            timing["optimize_s"] = round(time.perf_counter() - started, 2)
            done.set()

        worker = threading.Thread(target=optimise)
        worker.start()
        while not done.is_set():
            started = time.perf_counter()
            index.search(queries[len(during) % len(queries)])
            during.append((time.perf_counter() - started) * 1000)
        worker.join()
        after = median_ms()
    result = {
        "n": args.n,
        "hybrid_median_ms_unoptimised": before,
        "optimize_s": timing["optimize_s"],
        "searches_during_optimize": len(during),
        "hybrid_median_ms_during_optimize": round(statistics.median(during), 1) if during else None,
        "hybrid_median_ms_optimised": after,
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
