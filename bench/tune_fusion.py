"""Grid over fusion settings on several labelled sets at once (how the defaults were chosen).

    python bench/tune_fusion.py --set pt:$D/sample_products.jsonl:$D/sample_queries.tsv:$D/sample_qrels.tsv \
        --set en:DIR/products.jsonl:DIR/queries.tsv:DIR/qrels.tsv [--json]     # D=odoo_search_lib/data

Each set (``language:products:queries:qrels``) is indexed once with that language; every query
runs once per signal (dense, bm25, chars; 100 candidates each, the typo correction of the hybrid
search applied), and the recorded lists are then fused offline with :func:`odoo_search_lib.search.fuse`
for each setting of the grid, so a grid of hundreds of settings costs one search per signal.
Prints nDCG@10 per set and their mean, best first. Never run it on ``bench/holdout_*``: those
are checked with ``odoo-search eval`` after the choice.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import tempfile

from odoo_search_lib import SearchIndex, Settings, load_jsonl
from odoo_search_lib.config import SIGNALS
from odoo_search_lib.evaluate import evaluate_run, load_qrels, load_queries
from odoo_search_lib.search import fuse
from odoo_search_lib.store.base import ScoredPoint

Lists = dict[str, list[ScoredPoint]]


def record(language: str, products: str, queries_path: str, qrels_path: str) -> tuple[dict[str, str], dict, dict]:
    """Per query: each signal's 100 best (document id, score), as the hybrid search sees them."""
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    documents = load_jsonl(products).documents
    lists: dict[str, Lists] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with SearchIndex(Settings.from_dict({"language": language, "store": {"path": tmp}})) as index:
            index.reindex(documents)
            searcher = index.searcher
            base = searcher.settings
            for qid, text in queries.items():
                if not qrels.get(qid):
                    continue
                corrected = searcher.search(text, limit=1).corrected_query or text
                signals: Lists = {}
                for signal in SIGNALS:
                    # One signal alone, as the hybrid search runs it (chars on the raw text, the others corrected).
                    weights = {name: float(name == signal) for name in SIGNALS}
                    searcher.settings = dataclasses.replace(base, weights=weights)
                    hits = searcher.search(text if signal == "chars" else corrected, limit=100).hits
                    signals[signal] = [ScoredPoint(hit.id, hit.scores[signal], {}) for hit in hits]
                searcher.settings = base
                lists[qid] = signals
    return queries, qrels, lists


def score(queries: dict, qrels: dict, lists: dict, **options: object) -> float:
    lookup = {text: qid for qid, text in queries.items()}

    def ranker(text: str) -> list[str]:
        return [hit.id for hit in fuse(lists[lookup[text]], limit=10, **options)]

    return evaluate_run({qid: queries[qid] for qid in lists}, qrels, ranker)["ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", required=True, help="language:products:queries:qrels")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sets = {}
    for spec in args.set:
        language, products, queries, qrels = spec.split(":")
        sets[f"{language}:{products}"] = record(language, products, queries, qrels)
    grid = []
    for fusion, k, dense, bm25, chars, adaptive in itertools.product(
        ("rrf",), (10, 30, 60), (0.5, 1, 2, 3), (1,), (0, 0.5), (False, True)
    ):
        options = {"fusion": fusion, "rrf_k": k, "weights": {"dense": dense, "bm25": bm25, "chars": chars}}
        options["adaptive"] = adaptive
        scores = {name: score(*data, **options) for name, data in sets.items()}
        grid.append({**options, "scores": scores, "mean": round(sum(scores.values()) / len(scores), 4)})
    grid.sort(key=lambda row: -row["mean"])
    if args.json:
        print(json.dumps(grid))
    else:
        for row in grid[:25]:
            print(row)


if __name__ == "__main__":
    main()
