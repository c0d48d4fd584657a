"""Fit the per-hit match confidence (``odoo_search_lib.confidence``) on the labelled sample.

    python bench/calibrate_confidence.py [--set language:products:queries:qrels ...] [--json]

Indexes the bundled sample, runs every labelled query (``data/sample_queries.tsv``), and takes
each top-10 hit as one example: its raw dense cosine, its term coverage, and whether the qrels
grade it relevant (grade >= 1). A logistic regression (Newton's method, a few lines of numpy:
the library has no scikit-learn dependency and needs nothing more) gives the coefficients, which
are printed with how well they separate relevant hits from the rest (log loss, and precision and
recall of ``confidence >= 0.5``) next to the shipped ones of the set's language (``LANGUAGE_COEFFICIENTS``), per set.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from importlib import resources

import numpy as np

from odoo_search_lib import SearchIndex, Settings, load_jsonl
from odoo_search_lib.confidence import LANGUAGE_COEFFICIENTS, hit_terms, match_confidence, term_coverage
from odoo_search_lib.evaluate import load_qrels, load_queries

SAMPLE = "pt:{0}/sample_products.jsonl:{0}/sample_queries.tsv:{0}/sample_qrels.tsv".format(
    resources.files("odoo_search_lib") / "data"
)


def examples(spec: str = SAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """``language:products:queries:qrels`` -> (dense cosine, coverage) of every top-10 hit, and its label."""
    language, products, queries_path, qrels_path = spec.split(":")
    queries = load_queries(queries_path)
    qrels = load_qrels(qrels_path)
    documents = load_jsonl(products).documents
    rows, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_dict({"language": language, "store": {"path": tmp}})
        with SearchIndex(settings) as index:
            index.reindex(documents)
            analyzer = index.bm25.analyzer
            for qid, text in queries.items():
                if not qrels.get(qid):
                    continue
                result = index.search(text, limit=10)
                terms = set(analyzer.terms(result.corrected_query or text))
                for hit in result.hits:
                    coverage = term_coverage(terms, hit_terms(hit.payload, analyzer))
                    rows.append((hit.scores.get("dense", 0.0), coverage))
                    labels.append(1.0 if qrels[qid].get(hit.id, 0) >= 1 else 0.0)
    return np.array(rows), np.array(labels)


def fit(features: np.ndarray, labels: np.ndarray, iterations: int = 50, ridge: float = 1e-3) -> np.ndarray:
    design = np.hstack([np.ones((len(features), 1)), features])
    weights = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - labels) + ridge * weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge * np.eye(design.shape[1])
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def report(name: str, coefficients: tuple[float, ...], features: np.ndarray, labels: np.ndarray) -> dict:
    p = np.array([match_confidence(d, c, coefficients) for d, c in features])  # type: ignore[arg-type]
    eps = 1e-9
    loss = float(-np.mean(labels * np.log(p + eps) + (1 - labels) * np.log(1 - p + eps)))
    predicted = p >= 0.5
    tp = float(np.sum(predicted & (labels == 1)))
    return {
        "name": name,
        "coefficients": [round(float(c), 3) for c in coefficients],
        "log_loss": round(loss, 4),
        "precision@0.5": round(tp / max(1.0, float(predicted.sum())), 4),
        "recall@0.5": round(tp / max(1.0, float(labels.sum())), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--set",
        action="append",
        help="language:products:queries:qrels (repeatable; default the bundled Portuguese sample)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sets = {spec: examples(spec) for spec in args.set or [SAMPLE]}
    result = {}
    for spec, (features, labels) in sets.items():
        language, products = spec.split(":")[:2]
        fitted = tuple(float(c) for c in fit(features, labels))
        result[f"{language}:{products}"] = {
            "examples": int(len(labels)),
            "relevant": int(labels.sum()),
            "fitted": report("fitted", fitted, features, labels),
            "shipped": report("shipped", LANGUAGE_COEFFICIENTS[language], features, labels),
        }
    if args.json:
        print(json.dumps(result))
        return
    for name, rows in result.items():
        print(f"{name}: {rows['examples']} hits, {rows['relevant']} relevant")
        for key in ("fitted", "shipped"):
            print("  " + json.dumps(rows[key]))


if __name__ == "__main__":
    main()
