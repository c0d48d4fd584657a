"""Grid over fusion settings on several labelled sets at once (how the defaults were chosen).

    python bench/tune_fusion.py --set pt:$D/sample_products.jsonl:$D/sample_queries.tsv:$D/sample_qrels.tsv \
        --set en:DIR/products.jsonl:DIR/queries.tsv:DIR/qrels.tsv [--json]     # D=odoo_search_lib/data

Each set (``language:products:queries:qrels``) is indexed once with that language; every query
runs once per signal (dense, bm25, chars; 100 candidates each, the typo correction of the hybrid
search applied), and the recorded lists are then fused offline with :func:`odoo_search_lib.search.fuse`
for each setting of the grid (the per-query adaptive weights replayed from the coverage of BM25's
best hits, as :class:`~odoo_search_lib.search.HybridSearcher` computes it), so a grid of hundreds
of settings costs one search per signal.
Prints nDCG@10 per set, best sum first (``--json``: the whole grid). Each set is usually tuned with
its language's weights: read the rows of one set. Never run it on ``bench/holdout_*``: those
are checked with ``odoo-search eval`` after the choice.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import tempfile

from odoo_search_lib import SearchIndex, Settings, load_jsonl
from odoo_search_lib.confidence import hit_terms, term_coverage
from odoo_search_lib.config import SIGNALS
from odoo_search_lib.evaluate import evaluate_run, load_qrels, load_queries
from odoo_search_lib.search import COVERAGE_HITS, adaptive_weights, fuse
from odoo_search_lib.store.base import ScoredPoint

Lists = dict[str, list[ScoredPoint]]


def record(language: str, products: str, queries_path: str, qrels_path: str) -> tuple[dict, dict, dict, dict]:
    """Per query: each signal's 100 best (document id, score) as the hybrid search sees them, and the coverage."""
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    documents = load_jsonl(products).documents
    lists: dict[str, Lists] = {}
    coverage: dict[str, float] = {}
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
                    if signal == "bm25":
                        terms = set(index.bm25.analyzer.terms(corrected))
                        found = [hit_terms(hit.payload, index.bm25.analyzer) for hit in hits[:COVERAGE_HITS]]
                        coverage[qid] = max((term_coverage(terms, hit) for hit in found), default=0.0)
                searcher.settings = base
                lists[qid] = signals
    return queries, qrels, lists, coverage


def score(queries: dict, qrels: dict, lists: dict, coverage: dict, *, weights: dict, boost: float, k: int) -> float:
    lookup = {text: qid for qid, text in queries.items()}

    def ranker(text: str) -> list[str]:
        qid = lookup[text]
        adapted = adaptive_weights(weights, coverage.get(qid, 0.0), boost)
        return [hit.id for hit in fuse(lists[qid], adapted, rrf_k=k, limit=10)]

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
    for k, dense, chars, boost in itertools.product(
        (5, 10, 20, 30), (0.25, 0.5, 1, 2, 3, 4), (0.25, 0.5, 1), (0, 1, 2, 3)
    ):
        weights = {"dense": float(dense), "bm25": 1.0, "chars": float(chars)}
        scores = {name: round(score(*data, weights=weights, boost=boost, k=k), 4) for name, data in sets.items()}
        grid.append({"rrf_k": k, "weights": weights, "coverage_boost": boost, "ndcg@10": scores})
    grid.sort(key=lambda row: -sum(row["ndcg@10"].values()))
    if args.json:
        print(json.dumps(grid))
    else:
        for row in grid[:25]:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
