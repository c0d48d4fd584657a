"""Latency of one offline assistant reply against one bare hybrid search, on the bundled sets.

    python bench/chat_latency.py [--rounds 3] [--json]

Indexes the 368-product sample and the 50 sample rules into an embedded store, then, for every
conversation of ``data/sample_conversations.jsonl``, times one offline reply (guard, every product
and rule search it makes, live lookups, templates) and, interleaved with it, one bare hybrid
search of the customer's last message: the cheapest thing a reply could cost. Interleaving keeps
both under the same machine load, so the ratio means more than the absolute figures on a shared
machine. Round 1 is cold (no query vector cached); later rounds hit the in-process query cache,
as repeated customer questions do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from importlib import resources

from odoo_search_lib import Settings, load_jsonl
from odoo_search_lib.assistant import SalesAssistant
from odoo_search_lib.assistant.adapters import FileShop, load_rules
from odoo_search_lib.assistant.evaluate import load_conversations


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = resources.files("odoo_search_lib") / "data"
    products = load_jsonl(str(data / "sample_products.jsonl")).documents
    rules = load_rules(str(data / "sample_rules.jsonl"))
    conversations = load_conversations(str(data / "sample_conversations.jsonl"))
    rounds = []
    with FileShop(products, rules, Settings()) as shop:
        assistant = SalesAssistant(shop.catalog, shop.rules)
        for number in range(1, args.rounds + 1):
            replies, searches = [], []
            for item in conversations:
                started = time.perf_counter()
                assistant.reply(item.conversation, at=dt.date(2026, 12, 1))
                replies.append((time.perf_counter() - started) * 1000)
                last = next((m.text for m in reversed(item.conversation.messages) if m.text.strip()), "")
                if last.strip():
                    started = time.perf_counter()
                    shop.products_index.search(last[:500], limit=8)
                    searches.append((time.perf_counter() - started) * 1000)
            rounds.append(
                {
                    "round": number,
                    "reply_p50_ms": round(statistics.median(replies), 2),
                    "reply_p95_ms": round(percentile(replies, 0.95), 2),
                    "search_p50_ms": round(statistics.median(searches), 2),
                    "search_p95_ms": round(percentile(searches, 0.95), 2),
                }
            )
    if args.json:
        print(json.dumps({"conversations": len(conversations), "rounds": rounds}))
        return
    print(f"{len(conversations)} conversations, 368 products, 50 rules")
    for row in rounds:
        print(
            f"round {row['round']}: reply p50 {row['reply_p50_ms']} ms p95 {row['reply_p95_ms']} ms; "
            f"one search p50 {row['search_p50_ms']} ms p95 {row['search_p95_ms']} ms"
        )


if __name__ == "__main__":
    main()
