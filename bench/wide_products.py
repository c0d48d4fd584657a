"""What a misspelled query costs when the catalogue's products have thousands of attributes.

    python bench/wide_products.py [--products 60] [--attributes 3000] [--queries 20] [--json]

A query word no product contains makes the searcher read the typo signal's best hits and collect
their words as correction candidates. This builds an embedded index of wide synthetic products
(each with ``--attributes`` attribute values) and reports the median latency of a misspelled query
("camizeta preta") next to the same query spelled right ("camiseta preta"), which skips that step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from odoo_search_lib import Document, SearchIndex, Settings


def wide_catalogue(products: int, attributes: int) -> list[Document]:
    colours = ["preta", "azul", "branca", "verde", "vermelha"]
    return [
        Document(
            id=f"w{i}",
            name=f"Camiseta Modelo {i} {colours[i % len(colours)]}",
            category="Roupas > Camisetas",
            attributes={f"Atributo {j}": f"valor{j} medida{(i * j) % 97} tecido{j % 13}" for j in range(attributes)},
            price=50.0 + i,
        )
        for i in range(products)
    ]


def median_ms(index: SearchIndex, query: str, runs: int) -> float:
    index.search(query)  # warm-up (query-vector cache, page cache)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        index.search(query)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--attributes", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    docs = wide_catalogue(args.products, args.attributes)
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(Settings.from_dict({"store": {"path": tmp}})) as index:
        index.reindex(docs)
        misspelled = index.search("camizeta preta")
        result = {
            "products": args.products,
            "attributes": args.attributes,
            "corrected_query": misspelled.corrected_query,
            "misspelled_ms_p50": round(median_ms(index, "camizeta preta", args.queries), 2),
            "spelled_right_ms_p50": round(median_ms(index, "camiseta preta", args.queries), 2),
        }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['products']} products x {result['attributes']} attributes: misspelled query "
            f"{result['misspelled_ms_p50']} ms (corrected to {result['corrected_query']!r}), "
            f"spelled right {result['spelled_right_ms_p50']} ms (medians of {args.queries})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
