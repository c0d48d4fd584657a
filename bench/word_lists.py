"""What typo correction's word lists cost: loading, memory, and a hybrid query with and without them.

    python bench/word_lists.py [--rounds 5] [--json]

First loads the Portuguese and English lists (``odoo_search_lib.words``) in this fresh process and
reports the time, the bytes kept and the growth of the resident set (the lists are read through
pyspellchecker, whose whole dictionary lives for a moment). Then it indexes the bundled sample
catalogue with the default embedder and times every labelled query (sample and held-out) in hybrid
mode, alternating a searcher with the lists and one without (every long word then costs a probe):
medians and 95th percentiles of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from odoo_search_lib import SearchIndex, Settings
from odoo_search_lib.documents import load_jsonl
from odoo_search_lib.evaluate import load_queries
from odoo_search_lib.search import HybridSearcher
from odoo_search_lib.words import WordList, _hashes

HERE = Path(__file__).resolve().parent
DATA = Path(str(resources.files("odoo_search_lib") / "data"))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the queries per searcher")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    before = rss_mb()
    started = time.perf_counter()
    words = WordList(["pt", "en"])
    words.available()  # reads both lists
    result: dict[str, object] = {
        "load_s": round(time.perf_counter() - started, 2),
        "kept_mb": round(sum(_hashes(language).nbytes for language in words.languages) / 2**20, 1),
        "rss_growth_mb": round(rss_mb() - before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    probe = ["camiseta", "camizeta", "morning", "geladera"] * 25_000
    started = time.perf_counter()
    for word in probe:
        _ = word in words
    result["lookup_us"] = round((time.perf_counter() - started) / len(probe) * 1e6, 2)
    queries = [
        *load_queries(DATA / "sample_queries.tsv").values(),
        *load_queries(HERE / "holdout_queries.tsv").values(),
    ]
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings.from_dict({"store": {"path": tmp}})) as index:
        index.reindex(load_jsonl(DATA / "sample_products.jsonl").documents)
        searchers = {
            name: HybridSearcher(
                index.store,
                index.collection,
                index.embedder,
                index.bm25,
                index.chars,
                index.settings.search,
                index.cache,
                words=word_list,
            )
            for name, word_list in (("with_lists", words), ("catalogue_only", WordList(())))
        }
        times: dict[str, list[float]] = {name: [] for name in searchers}
        for query in queries:  # warm the query-vector cache: only the typo checks differ below
            for searcher in searchers.values():
                searcher.search(query)
        for _ in range(args.rounds):
            for query in queries:
                for name, searcher in searchers.items():
                    started = time.perf_counter()
                    searcher.search(query)
                    times[name].append((time.perf_counter() - started) * 1000)
    for name, values in times.items():
        result[f"hybrid_{name}_ms_p50"] = round(statistics.median(values), 3)
        result[f"hybrid_{name}_ms_p95"] = round(percentile(values, 0.95), 3)
    result["queries"] = len(queries) * args.rounds
    result["load_avg_1m"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
