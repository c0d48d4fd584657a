"""Side-by-side latency and indexing figures against the baselines a user would otherwise pick.

    python bench/compare.py --n 20000 --queries 100 [--json]

At N synthetic products (the same catalogue as ``odoo-search bench``) it reports medians of:

- query latency, query encoding included: our hybrid/bm25/dense on the embedded store; the same
  code on qdrant-client's in-process local mode (what ``QdrantClient(":memory:")`` or a local path
  gives); rank-bm25's ``BM25Okapi``; ``bm25s`` when installed; a Python substring scan of the
  names (what ``name ilike`` does without an index);
- indexing throughput of the default embedder on our dense text against embedding the whole
  product text (name + full description), the naive choice.

Numbers are medians; ratios are against our hybrid query. The machine is shared, so compare
ratios rather than absolute values across runs.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from odoo_search_lib import Settings
from odoo_search_lib.bench import (
    cached_vectors,
    default_cache_dir,
    fill_with_vectors,
    synthetic_catalogue,
    synthetic_queries,
)
from odoo_search_lib.documents import dense_text
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.store.qdrant import QdrantStore
from odoo_search_lib.types import Document

LOCAL_MODE_CAP = 10_000  # qdrant-client's local mode scores sparse vectors in pure Python


def median_ms(func: Callable[[str], object], queries: Sequence[str]) -> float:
    for query in queries[:5]:
        func(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        func(query)
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def indexing_rates(index: SearchIndex, docs: list[Document], sample: int) -> dict[str, float]:
    subset = docs[:sample]
    rates = {}
    for label, texts in (
        ("ours_dense_text", [dense_text(doc) for doc in subset]),
        ("full_text", [f"{doc.name}. {doc.description}" for doc in subset]),
    ):
        started = time.perf_counter()
        index.embedder.embed_documents(texts)
        rates[label] = round(len(texts) / (time.perf_counter() - started), 1)
    return rates


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--sample", type=int, default=1_000, help="products embedded for the indexing rates")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    docs = list(synthetic_catalogue(args.n))
    queries = synthetic_queries(args.queries)
    latency: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings.from_dict({"store": {"path": tmp}})) as index:
        vectors = cached_vectors(index.embedder, docs, default_cache_dir(), 7)
        fill_with_vectors(index, docs, vectors)
        for method in ("hybrid", "bm25", "dense"):
            index.cache.clear_local()  # every timed query pays for its own encoding
            latency[f"ours_{method}"] = median_ms(lambda q, m=method: index.search(q, method=m), queries)
        rates = indexing_rates(index, docs, args.sample)

        local_n = min(args.n, LOCAL_MODE_CAP)
        local = SearchIndex(Settings(), embedder=index.embedder, store=QdrantStore(":memory:"))
        fill_with_vectors(local, docs[:local_n], vectors[:local_n])
        local.cache.clear_local()
        latency[f"qdrant_client_local_hybrid_at_{local_n}"] = median_ms(local.search, queries[:20])
        local.store.close()

    tokens = [
        re.findall(r"\w+", f"{d.name} {d.category} {' '.join(d.attributes.values())} {d.description}".lower())
        for d in docs
    ]
    from rank_bm25 import BM25Okapi

    okapi = BM25Okapi(tokens)
    latency["rank_bm25"] = median_ms(lambda q: okapi.get_top_n(re.findall(r"\w+", q.lower()), docs, n=10), queries[:30])
    try:
        import bm25s
    except ImportError:
        pass
    else:
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize([" ".join(t) for t in tokens], show_progress=False), show_progress=False)
        latency["bm25s"] = median_ms(
            lambda q: retriever.retrieve(bm25s.tokenize([q], show_progress=False), k=10, show_progress=False),
            queries,
        )
    names = [doc.name.lower() for doc in docs]
    latency["substring_scan"] = median_ms(lambda q: [n for n in names if q.lower() in n][:10], queries)

    base = latency["ours_hybrid"]
    result = {
        "n": args.n,
        "query_ms_median": latency,
        "ratio_to_ours_hybrid": {name: round(value / base, 2) for name, value in latency.items()},
        "index_embed_per_s": rates,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.n} products, {len(queries)} queries (medians, query encoding included)")
        for name, value in latency.items():
            print(f"  {name:<40} {value:>9.2f} ms   x{result['ratio_to_ours_hybrid'][name]}")
        print("embedding throughput (products/s):", rates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
