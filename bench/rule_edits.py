"""How long a business rule edit takes to become searchable, and what a rule search costs.

    python bench/rule_edits.py [--edits 30] [--json]

Indexes the bundled sample rules in an embedded store with the default model, then edits one
rule at a time (a new title and content, as the Odoo addon does on save) and times
``RuleIndex.upsert`` followed by the first (BM25) search that finds the new word. Also reports the median
rule search (validity filter on) against the same searches without the filter
(``include_inactive``): the filter's cost. Query vectors come from the cache in both passes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path

from odoo_search_lib import Settings
from odoo_search_lib.evaluate import load_queries
from odoo_search_lib.rules import RuleIndex, load_rules

DATA = Path(str(resources.files("odoo_search_lib") / "data"))
AT = "2026-12-01"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    random.seed(7)
    rules = load_rules(DATA / "sample_rules.jsonl").rules
    queries = list(load_queries(DATA / "sample_rule_queries.tsv").values())
    with tempfile.TemporaryDirectory() as tmp, RuleIndex(Settings.from_dict({"store": {"path": tmp}})) as index:
        index.reindex(rules)
        index.search("aquecimento", at=AT)  # load the model's query path once

        def median_ms(**options: object) -> float:
            samples = []
            for query in queries:
                started = time.perf_counter()
                index.search(query, at=AT, limit=5, **options)
                samples.append((time.perf_counter() - started) * 1000)
            return round(statistics.median(samples), 2)

        edit_ms = []
        for number in range(args.edits):
            target = rules[number % len(rules)]
            word = "".join(chr(97 + byte % 26) for byte in random.randbytes(10))  # a word no rule holds
            edited = replace(target, title=f"{target.title} {word}", content=f"{target.content} Novidade: {word}.")
            started = time.perf_counter()
            index.upsert([edited])
            # BM25 alone: this times visibility, not ranking (hybrid weighs the dense model 3 to 1, and
            # a made-up word means nothing to it).
            found = index.search(word, at=AT, limit=1, include_inactive=True, method="bm25").ids()
            edit_ms.append((time.perf_counter() - started) * 1000)
            if found != [target.id]:
                print(f"edit {number}: {word} not found first ({found})", file=sys.stderr)
                return 1
        median_ms()  # embeds every query once: both measured passes below read the vectors from the cache
        result = {
            "rules": len(rules),
            "passages": index.count(),
            "edits": args.edits,
            "edit_to_searchable_ms": {
                "p50": round(statistics.median(edit_ms), 2),
                "max": round(max(edit_ms), 2),
            },
            "search_ms_p50": median_ms(),
            "search_ms_p50_without_validity_filter": median_ms(include_inactive=True),
        }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
