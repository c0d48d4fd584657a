"""Prepare the Home Depot Product Search Relevance data (Kaggle, 2016) as an English evaluation set.

    python bench/homedepot.py --train train.csv.zip [--descriptions product_descriptions.csv.zip]
        [--attributes attributes.csv.zip] --out DIR [--queries 400] [--distractors 2000] [--seed 11]

Writes ``DIR/products.jsonl`` (the library's document format), ``DIR/queries.tsv`` and
``DIR/qrels.tsv``, ready for ``odoo-search eval --language en``. Each input may be the CSV
itself or Kaggle's ``.zip`` of it; Kaggle ships them in Latin-1.

What it keeps, so the set stays small enough to index on a laptop in a few minutes:

- queries: ``--queries`` search terms drawn at random (``--seed``) among those with at least
  ``--min-judged`` judged products, so a ranking has something to order;
- products: every product judged for those queries, plus ``--distractors`` products drawn at
  random among the others (judged for other queries, so real catalogue items; unjudged here,
  which counts them as not relevant: a few may in truth be relevant, as in any pooled set);
- a product is ``{"id": "hd<product_uid>", "name": title, "description": ..., "attributes":
  {"brand": ...}}``; the description and brand only when those files are given. Home Depot
  ships no category, so there is none.

Grades: each pair was rated 1 (irrelevant), 2 (partly) or 3 (perfect) by at least three raters
and the file holds the mean. A mean of 2.67 or more (at least two "perfect", no "irrelevant"
among three) is grade 2; 2.0 up to 2.67 (on average "partly relevant") is grade 1; below 2
(raters leaning to "irrelevant") is grade 0, written to the qrels as judged non-relevant.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

#: Brand is the one attribute every product line carries; the bullets repeat the description.
BRAND_ATTRIBUTE = "MFG Brand Name"


def grade(relevance: float) -> int:
    """Map a mean 1-3 crowd rating onto the library's 0/1/2 grades (see the module docstring)."""
    if relevance >= 2.67:
        return 2
    if relevance >= 2.0:
        return 1
    return 0


def read_csv(path: str) -> Iterator[dict[str, str]]:
    """Rows of a Kaggle CSV, or of the single CSV inside its ``.zip``."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = next(name for name in archive.namelist() if name.endswith(".csv"))
            with archive.open(member) as raw:
                yield from csv.DictReader(io.TextIOWrapper(raw, encoding="latin-1", newline=""))
    else:
        with open(path, encoding="latin-1", newline="") as handle:
            yield from csv.DictReader(handle)


def prepare(
    train: str,
    descriptions: str | None,
    attributes: str | None,
    *,
    queries: int,
    distractors: int,
    min_judged: int,
    seed: int,
) -> tuple[list[dict[str, object]], dict[str, str], dict[str, dict[str, int]]]:
    """Products, queries (qid -> text) and qrels (qid -> {doc id: grade}) of the chosen subset."""
    titles: dict[str, str] = {}
    judged: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in read_csv(train):
        uid, term = row["product_uid"], " ".join(row["search_term"].split())
        titles[uid] = " ".join(row["product_title"].split())
        judged[term.casefold()][uid].append(float(row["relevance"]))
    eligible = sorted(term for term, pairs in judged.items() if len(pairs) >= min_judged)
    if not eligible:
        raise ValueError(f"no search term has {min_judged} judged products")
    rng = random.Random(seed)
    chosen = sorted(rng.sample(eligible, min(queries, len(eligible))))
    query_map: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for number, term in enumerate(chosen, 1):
        qid = f"hd{number:04d}"
        query_map[qid] = term
        qrels[qid] = {f"hd{uid}": grade(sum(r) / len(r)) for uid, r in sorted(judged[term].items())}
    wanted = {doc_id[2:] for labels in qrels.values() for doc_id in labels}
    others = sorted(set(titles) - wanted)
    wanted |= set(rng.sample(others, min(distractors, len(others))))
    texts = _column(descriptions, "product_description", wanted) if descriptions else {}
    brands = _brands(attributes, wanted) if attributes else {}
    products: list[dict[str, object]] = []
    for uid in sorted(wanted, key=int):
        product: dict[str, object] = {"id": f"hd{uid}", "name": titles[uid]}
        if texts.get(uid):
            product["description"] = texts[uid]
        if brands.get(uid):
            product["attributes"] = {"brand": brands[uid]}
        products.append(product)
    return products, query_map, qrels


def _column(path: str, column: str, wanted: set[str]) -> dict[str, str]:
    return {row["product_uid"]: " ".join(row[column].split()) for row in read_csv(path) if row["product_uid"] in wanted}


def _brands(path: str, wanted: set[str]) -> dict[str, str]:
    brands: dict[str, str] = {}
    for row in read_csv(path):
        uid = (row.get("product_uid") or "").split(".")[0]  # attributes.csv writes 100001.0
        value = " ".join((row.get("value") or "").split())
        if uid in wanted and row.get("name") == BRAND_ATTRIBUTE and value and value.lower() not in ("n/a", "unbranded"):
            brands[uid] = value
    return brands


def write(
    out: Path, products: list[dict[str, object]], queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "products.jsonl", "w", encoding="utf-8") as handle:
        for product in products:
            handle.write(json.dumps(product, ensure_ascii=False) + "\n")
    with open(out / "queries.tsv", "w", encoding="utf-8") as handle:
        handle.writelines(f"{qid}\t{text}\n" for qid, text in queries.items())
    with open(out / "qrels.tsv", "w", encoding="utf-8") as handle:
        for qid, labels in qrels.items():
            handle.writelines(f"{qid}\t0\t{doc_id}\t{value}\n" for doc_id, value in labels.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True, help="train.csv or train.csv.zip")
    parser.add_argument("--descriptions", help="product_descriptions.csv(.zip): adds each product's description")
    parser.add_argument("--attributes", help="attributes.csv(.zip): adds each product's brand")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--queries", type=int, default=400, help="search terms to keep (default 400)")
    parser.add_argument("--distractors", type=int, default=2000, help="unjudged products added (default 2000)")
    parser.add_argument("--min-judged", type=int, default=5, help="least judged products per query (default 5)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if args.queries < 1 or args.distractors < 0 or args.min_judged < 1:
        parser.error("--queries and --min-judged must be >= 1, --distractors >= 0")
    try:
        products, queries, qrels = prepare(
            args.train,
            args.descriptions,
            args.attributes,
            queries=args.queries,
            distractors=args.distractors,
            min_judged=args.min_judged,
            seed=args.seed,
        )
    except (OSError, KeyError, ValueError, StopIteration, zipfile.BadZipFile) as exc:
        print(f"homedepot: cannot read the input: {exc!r}", file=sys.stderr)
        return 2
    write(Path(args.out), products, queries, qrels)
    pairs = sum(len(labels) for labels in qrels.values())
    print(f"{len(queries)} queries, {pairs} judged pairs, {len(products)} products -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
