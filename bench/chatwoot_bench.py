"""Chatwoot webhook load: concurrent signed deliveries with duplicates against a running Odoo.

Odoo must run the addon with queue_job's runner (``--load=base,web,queue_job`` and the
``root.semantic.reply`` lane); this script configures the Chatwoot settings over XML-RPC (as
``admin``), points them at a stand-in Chatwoot on 127.0.0.1, sends ``--distinct`` messages (one
per conversation) plus ``--duplicates`` repeats of them (same ``X-Chatwoot-Delivery``), all at once,
and waits for the replies. It prints the route's p50/p95, how many distinct messages were answered
(each must be answered exactly once) and the delivery→reply p50 from the conversation log.

``--products N`` first creates N products of the bundled sample (``sample_products.jsonl``) and waits
for their index jobs, so that each message asks for one of them ("tem <name>?") and the reply runs
the hybrid search and the live price/stock reads, not only the greeting.

    python bench/chatwoot_bench.py --url http://127.0.0.1:8069 --db bench --password admin --products 200
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from odoo_search_lib import load_jsonl
from odoo_search_lib.chatwoot.testing import StandInChatwoot, message_payload, send_delivery

SECRET = "bench-secret"
TOKEN = "bench-token"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--password", default="admin")
    parser.add_argument("--distinct", type=int, default=80)
    parser.add_argument("--duplicates", type=int, default=20)
    parser.add_argument("--products", type=int, default=0, help="sample products to create and ask about")
    parser.add_argument("--sequential", type=int, default=20, help="then this many messages one at a time")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()

    common = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/common")
    uid = common.authenticate(args.db, "admin", args.password, {})
    models = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *params, **kw):
        return models.execute_kw(args.db, uid, args.password, model, method, list(params), kw)

    with StandInChatwoot(account_id=1, token=TOKEN) as chatwoot:
        prefix = "semantic_product_description."
        for key, value in {
            "chatwoot_enabled": "True",
            "chatwoot_base_url": chatwoot.url,
            "chatwoot_account_id": "1",
            "chatwoot_api_token": TOKEN,
            "chatwoot_webhook_secret": SECRET,
            "chatwoot_burst_window": "0",
            "chatwoot_rate_limit": "0",
            "webhook_allowlist": "127.0.0.1",
        }.items():
            call("ir.config_parameter", "set_param", prefix + key, value)
        questions = ["boa noite"]
        if args.products:
            questions = [f"tem {name}?" for name in seed_products(call, args.products, args.timeout)]
        base = int(time.time()) % 100_000 * 1000
        bodies = [
            (
                f"bench-{base + i}",
                message_payload(message_id=base + i, content=questions[i % len(questions)], conversation_id=base + i),
            )
            for i in range(args.distinct)
        ]
        sends = bodies + random.sample(bodies, args.duplicates)
        random.shuffle(sends)
        hook = f"{args.url}/api/v1/chatwoot/webhook?db={args.db}"

        def deliver(item):
            delivery, body = item
            start = time.perf_counter()
            response = send_delivery(hook, body, secret=SECRET, delivery_id=delivery, timeout=30)
            try:
                body = response.json()
            except ValueError:
                body = {}
            return response.status_code, body, time.perf_counter() - start

        with ThreadPoolExecutor(len(sends)) as pool:
            results = list(pool.map(deliver, sends))
        route = sorted(seconds for _status, _body, seconds in results)
        statuses = [status for status, _body, _seconds in results]
        duplicates = sum(1 for _s, body, _t in results if body.get("duplicate"))
        deadline = time.time() + args.timeout
        while len(chatwoot.messages) < args.distinct and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # any extra (wrong) reply would arrive now
        answered = {}
        ours = {base + i for i in range(args.distinct)}
        for message in chatwoot.messages:
            if message["conversation_id"] not in ours:
                continue
            answered[message["conversation_id"]] = answered.get(message["conversation_id"], 0) + 1
        replies = call(
            "semantic.chatwoot.message",
            "search_read",
            [("kind", "=", "reply"), ("conversation_id.chatwoot_id", "in", sorted(ours))],
            fields=["latency_ms", "citations"],
        )
        cited = sum(1 for reply in replies if reply["citations"] not in (False, "[]"))
        latencies = sorted(reply["latency_ms"] for reply in replies)
        print(f"deliveries sent: {len(sends)} ({args.distinct} distinct, {args.duplicates} duplicates)")
        others = {status: statuses.count(status) for status in set(statuses) if status != 200}
        print(f"HTTP 200: {statuses.count(200)}; answered duplicate: {duplicates}; other statuses: {others}")
        print(
            f"route p50 {statistics.median(route) * 1000:.0f} ms, p95 {route[int(len(route) * 0.95) - 1] * 1000:.0f} ms"
        )
        print(
            f"conversations answered: {len(answered)}/{args.distinct}; "
            f"answered more than once: {sum(1 for n in answered.values() if n > 1)}"
        )
        if latencies:
            print(
                f"delivery->reply p50 {statistics.median(latencies):.0f} ms, "
                f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.0f} ms "
                f"(burst window 0; {len(latencies)} replies, {cited} citing a product or rule)"
            )
        sequential, alone = [], []
        for i in range(args.sequential):
            conversation = base + args.distinct + i
            body = message_payload(
                message_id=conversation, content=questions[i % len(questions)], conversation_id=conversation
            )
            seen = len(chatwoot.messages)
            start = time.perf_counter()
            send_delivery(hook, body, secret=SECRET, delivery_id=f"bench-{conversation}", timeout=30)
            alone.append(time.perf_counter() - start)
            while time.perf_counter() - start < 30 and not any(
                m["conversation_id"] == conversation for m in chatwoot.messages[seen:]
            ):
                time.sleep(0.01)
            sequential.append(time.perf_counter() - start)
        if sequential:
            sequential.sort()
            p95 = sequential[max(0, int(len(sequential) * 0.95) - 1)]
            print(
                f"one at a time: delivery sent -> reply received p50 {statistics.median(sequential) * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms ({len(sequential)} messages); "
                f"route alone p50 {statistics.median(alone) * 1000:.0f} ms"
            )


def seed_products(call, count: int, timeout: float) -> list[str]:
    """Create ``count`` sample products (name, price, description) and wait until none waits for indexing."""
    existing = call("product.template", "search_read", [("sale_ok", "=", True)], fields=["name"], limit=count)
    if len(existing) >= count:  # seeded by an earlier run
        return [product["name"] for product in existing]
    sample = resources.files("odoo_search_lib") / "data" / "sample_products.jsonl"
    with resources.as_file(sample) as path:
        documents = load_jsonl(path).documents[:count]
    call(
        "product.template",
        "create",
        [
            {"name": doc.name, "list_price": doc.price or 0.0, "description_sale": doc.description, "sale_ok": True}
            for doc in documents
        ],
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        unfinished = [("channel", "=like", "root.semantic.%"), ("state", "not in", ("done", "failed"))]
        waiting = call("queue.job", "search_count", unfinished)
        if not waiting:
            break
        time.sleep(1)
    return [doc.name for doc in documents]


if __name__ == "__main__":
    main()
