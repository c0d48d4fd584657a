"""How a confidence cut-off trades the relevant hits it keeps against the padding it drops.

For each labelled query of a set, the top ``--limit`` hybrid hits; a hit is kept when its
confidence is at least ``floor`` and at least ``ratio`` times the best hit's
(``odoo_search_lib.confidence.without_padding``). Prints, per (floor, ratio), the share of relevant
and of other hits kept, how many labelled queries are left with nothing, and how many hits
queries for what the sample catalogue does not sell keep.

    python bench/padding.py [--limit 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile

from odoo_search_lib import SearchIndex, Settings, load_jsonl
from odoo_search_lib.confidence import without_padding
from odoo_search_lib.evaluate import load_qrels, load_queries

DATA = "odoo_search_lib/data/"
#: Written for this check: none of them is sold by the sample catalogue.
OFF_CATALOGUE = (
    "pneu de caminhão",
    "seguro de vida",
    "asdfgh",
    "passagem aérea para paris",
    "consulta médica",
    "imóvel para alugar",
)
GRID = [(floor, ratio) for floor in (0.0, 0.05, 0.1, 0.15, 0.2) for ratio in (0.0, 0.4, 0.5, 0.6, 0.7)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", default=DATA + "sample_products.jsonl")
    parser.add_argument("--queries", default=DATA + "sample_queries.tsv")
    parser.add_argument("--qrels", default=DATA + "sample_qrels.tsv")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    queries, qrels = load_queries(args.queries), load_qrels(args.qrels)
    rows = {cut: {"relevant": 0, "other": 0, "emptied": 0, "off_catalogue": 0} for cut in GRID}
    totals = {"relevant": 0, "other": 0}
    with tempfile.TemporaryDirectory() as store, SearchIndex(Settings.from_dict({"store": {"path": store}})) as index:
        index.reindex(load_jsonl(args.products).documents)
        for qid, text in queries.items():
            if qid not in qrels:
                continue
            hits = index.search(text, limit=args.limit).hits
            for hit in hits:
                totals["relevant" if qrels[qid].get(hit.id, 0) > 0 else "other"] += 1
            for (floor, ratio), row in rows.items():
                kept = without_padding(hits, floor=floor, ratio=ratio)
                row["emptied"] += not kept
                for hit in kept:
                    row["relevant" if qrels[qid].get(hit.id, 0) > 0 else "other"] += 1
        for text in OFF_CATALOGUE:
            hits = index.search(text, limit=args.limit).hits
            for (floor, ratio), row in rows.items():
                row["off_catalogue"] += len(without_padding(hits, floor=floor, ratio=ratio))
    report = [
        {
            "floor": floor,
            "ratio": ratio,
            "relevant_kept": round(row["relevant"] / max(1, totals["relevant"]), 3),
            "other_kept": round(row["other"] / max(1, totals["other"]), 3),
            "queries_emptied": row["emptied"],
            "off_catalogue_hits_kept": row["off_catalogue"],
        }
        for (floor, ratio), row in rows.items()
    ]
    if args.json:
        print(json.dumps({"hits": totals, "limit": args.limit, "cuts": report}))
        return
    print(f"top {args.limit} hits: {totals['relevant']} relevant, {totals['other']} other")
    for row in report:
        print(
            f"floor {row['floor']:<4} ratio {row['ratio']:<4} relevant kept {row['relevant_kept']:.3f}  "
            f"other kept {row['other_kept']:.3f}  queries emptied {row['queries_emptied']:>3}  "
            f"off-catalogue hits kept {row['off_catalogue_hits_kept']}"
        )


if __name__ == "__main__":  # the embedding processes import this module again
    main()
