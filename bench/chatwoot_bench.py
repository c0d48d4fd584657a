"""Chatwoot webhook load: concurrent signed deliveries with duplicates against a running Odoo.

Odoo must run the addon with queue_job's runner (``--load=base,web,queue_job`` and the
``root.semantic.reply`` lane); this script configures the Chatwoot settings over XML-RPC (as
``admin``), points them at a stand-in Chatwoot on 127.0.0.1, sends ``--distinct`` messages (one
per conversation) plus ``--duplicates`` repeats of them (same ``X-Chatwoot-Delivery``), all at once,
and waits for the replies. It prints the route's p50/p95, how many distinct messages were answered
(each must be answered exactly once) and the delivery→reply p50 from the conversation log.

    python bench/chatwoot_bench.py --url http://127.0.0.1:8069 --db bench --password admin
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor

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
        base = int(time.time()) % 100_000 * 1000
        bodies = [
            (f"bench-{base + i}", message_payload(message_id=base + i, content="boa noite", conversation_id=base + i))
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
            fields=["latency_ms"],
        )
        latencies = sorted(reply["latency_ms"] for reply in replies)
        print(f"deliveries sent: {len(sends)} ({args.distinct} distinct, {args.duplicates} duplicates)")
        print(f"HTTP 200: {statuses.count(200)}; answered duplicate: {duplicates}")
        print(
            f"route p50 {statistics.median(route) * 1000:.0f} ms, p95 {route[int(len(route) * 0.95) - 1] * 1000:.0f} ms"
        )
        print(
            f"conversations answered: {len(answered)}/{args.distinct}; "
            f"answered more than once: {sum(1 for n in answered.values() if n > 1)}"
        )
        if latencies:
            print(
                f"delivery->reply p50 {statistics.median(latencies):.0f} ms (burst window 0; {len(latencies)} replies)"
            )


if __name__ == "__main__":
    main()
