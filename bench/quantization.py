"""What int8 quantization of the dense vectors (``store.quantization``) costs and saves.

    python bench/quantization.py --n 30000 --queries 100 [--json]

For each setting (``int8``, the default, and ``none``) it fills an embedded store with the same N
synthetic products (the catalogue of ``odoo-search bench``, dense vectors from its cache) and reports:

- ``optimize_s``: the store's final optimisation (HNSW graph, and the int8 copies), wall and CPU;
- ``recall_at_10``: the share of the exact top 10 (NumPy over every vector: the truth) that a dense
  query of the store returns, without a filter and under six filters of different selectivity
  (published, two categories, two attribute values, out of stock);
- dense query latency through ``EdgeStore.query`` (the query vector given: no encoding), p50/p95.

The query vectors are the synthetic queries of ``odoo-search bench``, embedded by the default model.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from odoo_search_lib import Settings
from odoo_search_lib.bench import cached_vectors, default_cache_dir, synthetic_catalogue, synthetic_queries
from odoo_search_lib.config import StoreSettings
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.store import Point, SignalQuery, point_id
from odoo_search_lib.store.edge import EdgeStore
from odoo_search_lib.types import Filters

#: label: (the store's filter, the same condition on a payload, for the truth side)
FILTERS: dict[str, tuple[Filters | None, Callable[[dict], bool]]] = {
    "none": (None, lambda payload: True),
    "published": (Filters(published=True), lambda payload: payload["published"] == 1),
    "category eletronicos": (
        Filters(category="Eletrônicos"),
        lambda payload: "eletronicos" in payload["categories"],
    ),
    "category informatica": (
        Filters(category="Informática"),
        lambda payload: "informatica" in payload["categories"],
    ),
    "attribute cor=amarelo": (
        Filters(attributes=(("Cor", ("Amarelo",)),)),
        lambda payload: "cor=amarelo" in payload["attr"],
    ),
    "attribute material=linho": (
        Filters(attributes=(("Material", ("linho",)),)),
        lambda payload: "material=linho" in payload["attr"],
    ),
    "out of stock": (Filters(in_stock=False), lambda payload: payload["in_stock"] == 0),
}


def measure(quantization: str, points: list[Point], vectors: np.ndarray, queries: np.ndarray) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="odoo-search-quant-") as tmp:
        store = EdgeStore(tmp, quantization=quantization)
        try:
            store.create_collection("c", vectors.shape[1])
            for start in range(0, len(points), 1000):
                store.upsert("c", points[start : start + 1000])
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            store.optimize("c")
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu_s = (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
            recall: dict[str, float] = {}
            latency: list[float] = []
            for label, (filters, passes) in FILTERS.items():
                allowed = np.array([passes(point.payload) for point in points])
                found_share = []
                for query in queries:
                    started = time.perf_counter()
                    (found,) = store.query("c", [SignalQuery("dense", query, 10, with_payload=False)], filters)
                    latency.append((time.perf_counter() - started) * 1000)
                    scores = np.where(allowed, vectors @ query, -np.inf)
                    truth = {point_id(points[i].doc_id) for i in np.argsort(-scores)[:10] if allowed[i]}
                    found_share.append(len(truth & {p.point_id for p in found}) / max(1, len(truth)))
                recall[label] = round(float(np.mean(found_share)), 4)
        finally:
            store.close()
    return {
        "optimize_s": round(wall, 2),
        "optimize_cpu_s": round(cpu_s, 2),
        "recall_at_10": recall,
        "dense_query_ms": {
            "p50": round(float(np.percentile(latency, 50)), 3),
            "p95": round(float(np.percentile(latency, 95)), 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    docs = list(synthetic_catalogue(args.n))
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings().replace(store=StoreSettings(path=tmp))) as index:
        vectors = np.asarray(cached_vectors(index.embedder, docs, default_cache_dir(), 7), dtype=np.float32)
        sparse = index.encode_sparse(docs)
        queries = np.asarray(index.embedder.embed_documents(synthetic_queries(args.queries)), dtype=np.float32)
    points = [Point(p.doc_id, v, p.bm25, p.chars, p.payload) for p, v in zip(sparse, vectors, strict=True)]
    result = {"n": args.n, "queries": args.queries}
    for quantization in ("int8", "none"):
        result[quantization] = measure(quantization, points, vectors, queries)
        print(f"{quantization}: {result[quantization]}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
