"""Odoo-side figures of the semantic_product_description addon, measured on a throwaway database.

    python bench/odoo_bench.py [--products 10000] [--json] [--keep]

Run it with a Python where ``import odoo`` (18.0) and ``import odoo_search_lib`` both work, with a
PostgreSQL server reachable the way Odoo's defaults (or the ``PG*`` environment variables) say. It
creates a database named ``odoo_bench_<random>`` and a temporary Odoo data directory (filestore and
embedded search store), installs the addon without demo data (``python -m odoo -i
semantic_product_description --stop-after-init``), and measures:

1. edit -> visible: an Odoo server (``--workers=0 --max-cron-threads=1``, ``--db-filter=^DB$``)
   holds 200 synthetic products; a product is renamed to a unique word through JSON-RPC, then
   ``POST /api/v1/products/search`` (bm25, query = that word, Bearer API key) is polled every
   50 ms until the product is the top hit. Timed: from the write call returning (committed) to the
   first answer that has it on top; the outbox cron, woken by the write, does the indexing.
2. reindex throughput: ``--products`` synthetic products created with the ORM (``odoo shell``),
   the outbox their creation queued marked done, then the *Reindex catalogue* action's job run
   the way the cron runs it (``action_reindex_catalogue()`` queues it, one ``_cron_process()``
   call runs ``reindex_products()``) and committed. For reference, the library's own
   ``SearchIndex.upsert`` on documents of the same products, in the same process.
3. webhook enqueue overhead: ``product.write({'list_price': ...}) + env.flush_all()`` with no
   endpoint and with one endpoint subscribed to ``product.updated`` (alternating blocks).
4. deliveries per second: 1000 ``product.updated`` deliveries to a receiver on 127.0.0.1 (a
   ``ThreadingHTTPServer`` with a listen backlog of 64 answering 200, in its own process),
   drained by calling the outbox cron method ``_cron_process()`` and committing, as ``ir.cron``
   does, until nothing is due.

The database and the data directory are dropped at the end unless ``--keep``. Numbers are medians
unless labelled otherwise; the machine is shared, so compare ratios rather than absolute values.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ADDONS = HERE.parent / "addons"
MODULE = "semantic_product_description"
PARAM_PREFIX = MODULE + "."
MARKER = "@@ODOO_BENCH@@ "
#: parameters set before measuring: Portuguese analysis (the synthetic catalogue is pt-BR), an API rate
#: limit the polling cannot hit, and the receiver's address allow-listed for webhooks
CONFIG = {"language": "pt", "api_rate_limit": "100000", "webhook_allowlist": "127.0.0.1"}

EDIT_PRODUCTS = 200
EDIT_ROUNDS = 20
POLL_INTERVAL_S = 0.05
VISIBLE_TIMEOUT_S = 30.0
ENQUEUE_WRITES = 300  # per case
ENQUEUE_BLOCKS = 10  # alternating blocks of 30 writes: the machine's drift cancels out
DELIVERIES = 1000
DRAIN_TIMEOUT_S = 300.0


def log(message: str) -> None:
    print(f"[odoo_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def odoo_addons_path() -> str:
    import odoo

    core = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "addons")
    return ",".join(path for path in (core, str(REPO_ADDONS)) if os.path.isdir(path))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class Run:
    """One throwaway database, its data directory and the processes started for it."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.db = f"odoo_bench_{secrets.token_hex(4)}"
        self.tmp = Path(tempfile.mkdtemp(prefix="odoo-bench-"))
        self.data_dir = self.tmp / "data"
        self.addons = odoo_addons_path()
        self.processes: list[subprocess.Popen] = []

    def odoo(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "odoo",
            *args,
            "-d",
            self.db,
            "--addons-path",
            self.addons,
            "--data-dir",
            str(self.data_dir),
        ]

    def install(self) -> float:
        started = time.perf_counter()
        logfile = self.tmp / "install.log"
        cmd = self.odoo("-i", MODULE, "--stop-after-init", "--without-demo=all", "--no-http", "--log-level=warn")
        with open(logfile, "wb") as out:
            done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False)
        if done.returncode:
            raise RuntimeError(f"installing {MODULE} failed (exit {done.returncode}):\n{tail(logfile)}")
        return time.perf_counter() - started

    def shell(self, part: str, params: dict, timeout: float) -> dict:
        """Run ``_shell_<part>(env, params)`` of this file inside ``odoo shell``; returns what it emitted."""
        script = (
            "import importlib.util, json\n"
            f"spec = importlib.util.spec_from_file_location('odoo_bench', {str(Path(__file__).resolve())!r})\n"
            "bench = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(bench)\n"
            f"bench._shell_{part}(env, json.loads({json.dumps(params)!r}))\n"
        )
        logfile = self.tmp / f"shell-{part}.log"
        cmd = self.odoo("shell", "--no-http", "--log-level=warn", "--logfile", str(logfile))
        done = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=timeout, check=False)
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
        raise RuntimeError(
            f"odoo shell part {part!r} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-3000:]}\n{tail(logfile)}"
        )

    def start(self, cmd: list[str], logname: str, **kwargs) -> subprocess.Popen:
        out = open(self.tmp / logname, "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, stdout=kwargs.pop("stdout", out), stderr=out, **kwargs)
        proc.logfile = out
        self.processes.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 20.0) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Odoo stops gracefully on the first SIGINT/SIGTERM
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        proc.logfile.close()
        if proc in self.processes:
            self.processes.remove(proc)

    def cleanup(self) -> None:
        for proc in list(self.processes):
            with contextlib.suppress(Exception):
                self.stop(proc)
        if self.keep:
            log(f"kept database {self.db} and data directory {self.tmp}")
            return
        try:
            import psycopg2

            conn = psycopg2.connect(dbname="postgres")
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            conn.close()
        except Exception as exc:  # noqa: BLE001 - report, keep cleaning
            log(f"could not drop database {self.db}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------------------
# HTTP clients (main process)
# ----------------------------------------------------------------------------------------------------


def http_json(url: str, payload: dict | None = None, headers: dict | None = None, timeout: float = 60.0):
    """``(status, decoded JSON or None)``; POST when ``payload`` is given."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


class JsonRpc:
    def __init__(self, base: str, db: str, login: str, key: str) -> None:
        self.base, self.db, self.key = base, db, key
        self.uid = self._call("common", "login", [db, login, key])
        if not self.uid:
            raise RuntimeError("JSON-RPC login with the API key failed")

    def _call(self, service: str, method: str, args: list):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"service": service, "method": method, "args": args},
        }
        status, answer = http_json(self.base + "/jsonrpc", payload, timeout=300)
        if status != 200 or not answer or "error" in answer:
            raise RuntimeError(f"JSON-RPC {method} failed: {status} {answer and answer.get('error')}")
        return answer["result"]

    def __call__(self, model: str, method: str, *args, **kwargs):
        return self._call("object", "execute_kw", [self.db, self.uid, self.key, model, method, list(args), kwargs])


def product_values(doc, categories: dict[str, int]) -> dict:
    return {
        "name": doc.name,
        "description_sale": doc.description,
        "list_price": doc.price,
        "categ_id": categories[doc.category],
    }


def unique_word(n: int) -> str:
    letters = ""
    n += 26 * 27  # at least three letters
    while n:
        n, rest = divmod(n, 26)
        letters = chr(ord("a") + rest) + letters
    return "Zyxqv" + letters


# ----------------------------------------------------------------------------------------------------
# 1. edit -> visible through the search route
# ----------------------------------------------------------------------------------------------------


def bench_edit_to_visible(run: Run, setup: dict) -> dict:
    from odoo_search_lib.bench import synthetic_catalogue

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = run.odoo(
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(port),
        "--workers=0",
        "--max-cron-threads=1",
        f"--db-filter=^{run.db}$",
        "--log-level=warn",
    )
    server = run.start(cmd, "server.log")
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the Odoo server exited ({server.returncode}):\n{tail(run.tmp / 'server.log')}")
            with contextlib.suppress(OSError):
                if http_json(base + "/web/health", timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the Odoo server did not answer /web/health within 120 s")
            time.sleep(0.2)
        rpc = JsonRpc(base, run.db, setup["login"], setup["api_key"])
        docs = list(synthetic_catalogue(EDIT_PRODUCTS, seed=1))
        ids = rpc("product.template", "create", [product_values(doc, setup["categories"]) for doc in docs])
        log(f"server on :{port}: {len(ids)} products created through JSON-RPC, waiting for the outbox cron")
        deadline = time.monotonic() + 300
        while rpc("product.template", "search_count", [("id", "in", ids), ("semantic_index_state", "!=", "indexed")]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"products not indexed after 300 s:\n{tail(run.tmp / 'server.log')}")
            time.sleep(0.25)
        auth = {"Authorization": f"Bearer {setup['search_key']}"}
        url = base + "/api/v1/products/search"

        def top_hit(word: str):
            status, answer = http_json(url, {"query": word, "method": "bm25", "limit": 1}, auth, timeout=30)
            if status != 200:
                return None, f"{status} {answer}"
            results = answer.get("results") or []
            return (results[0]["id"] if results else None), None

        for doc in docs[:5]:  # warm the route (and the query path) up
            top_hit(doc.name)
        samples, writes, polls = [], [], []
        step = max(1, len(ids) // EDIT_ROUNDS)
        for round_ in range(EDIT_ROUNDS):
            index = (round_ * step) % len(ids)
            product_id, word = ids[index], unique_word(round_)
            started = time.perf_counter()
            rpc("product.template", "write", [product_id], {"name": f"{word} {docs[index].name}"})
            written = time.perf_counter()
            writes.append(written - started)
            count, error = 0, None
            while True:
                count += 1
                hit, error = top_hit(word)
                if hit == product_id:
                    samples.append(time.perf_counter() - written)
                    polls.append(count)
                    break
                if time.perf_counter() - written > VISIBLE_TIMEOUT_S:
                    raise RuntimeError(
                        f"product {product_id} not the top hit for {word!r} {VISIBLE_TIMEOUT_S:.0f} s after the"
                        f" write (last answer: {error or hit})"
                    )
                time.sleep(max(0.0, written + count * POLL_INTERVAL_S - time.perf_counter()))
    finally:
        run.stop(server)
    return {
        "timed": "product.template write (rename to a unique word) through JSON-RPC returning -> first "
        "POST /api/v1/products/search (method bm25, query = that word, Bearer API key) answering it as the top "
        f"hit; polled every {POLL_INTERVAL_S * 1000:.0f} ms; Odoo --workers=0 --max-cron-threads=1, "
        f"{EDIT_PRODUCTS} products, embedded store",
        "renames": len(samples),
        "median_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
        "min_s": round(min(samples), 3),
        "samples_s": [round(value, 3) for value in samples],
        "polls_median": statistics.median(polls),
        "write_rpc_ms_median": round(statistics.median(writes) * 1000, 1),
        "target_s": 2.0,
    }


# ----------------------------------------------------------------------------------------------------
# 4. the receiver (a process of its own)
# ----------------------------------------------------------------------------------------------------


def serve_receiver() -> None:
    """Answer 200 to every POST, count them (``GET`` returns the count); prints the port, then serves."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()
    received = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                received[0] += 1
            self._answer(b'{"ok": true}')

        def do_GET(self):  # noqa: N802 - http.server API
            with lock:
                count = received[0]
            self._answer(json.dumps({"received": count}).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 64
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.05)


def start_receiver(run: Run) -> tuple[subprocess.Popen, int]:
    proc = run.start(
        [sys.executable, str(Path(__file__).resolve()), "--serve-receiver"],
        "receiver.log",
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        raise RuntimeError(f"the webhook receiver did not start:\n{tail(run.tmp / 'receiver.log')}")
    return proc, int(line)


# ----------------------------------------------------------------------------------------------------
# Parts run inside ``odoo shell`` (``env`` is the shell's superuser environment)
# ----------------------------------------------------------------------------------------------------


def _emit(result: dict) -> None:
    print(MARKER + json.dumps(result), flush=True)


def _shell_setup(env, params):
    icp = env["ir.config_parameter"].sudo()
    for key, value in params["config"].items():
        icp.set_param(PARAM_PREFIX + key, value)
    admin = env.ref("base.user_admin")
    keys = env["res.users.apikeys"].with_user(admin).sudo()
    # a global key for JSON-RPC; the search API only takes keys of its own scope
    api_key = keys._generate(None, "odoo_bench", None)
    search_key = keys._generate("semantic_search", "odoo_bench search", None)
    categories = {}
    for path in params["categories"]:
        parent = env.ref("product.product_category_all")
        for name in path.split(" > "):
            Category = env["product.category"]
            parent = Category.search([("name", "=", name), ("parent_id", "=", parent.id)], limit=1) or Category.create(
                {"name": name, "parent_id": parent.id}
            )
        categories[path] = parent.id
    env.cr.commit()
    _emit({"api_key": api_key, "search_key": search_key, "login": admin.login, "categories": categories})


def _open_jobs_done(env, domain=()):
    jobs = env["semantic.outbox"].search([("state", "in", ("pending", "failed")), *domain])
    jobs.write({"state": "done"})
    return len(jobs)


def _shell_reindex(env, params):
    from odoo_search_lib.bench import synthetic_catalogue

    Product = env["product.template"]
    Outbox = env["semantic.outbox"]
    service = env["semantic.search.service"]
    categories = params["categories"]
    docs = synthetic_catalogue(params["products"], seed=7)
    started, created = time.perf_counter(), 0
    while True:
        batch = [product_values(doc, categories) for doc in itertools.islice(docs, 500)]
        if not batch:
            break
        Product.create(batch)
        env.cr.commit()
        env.invalidate_all()
        created += len(batch)
    create_s = time.perf_counter() - started
    cleared = _open_jobs_done(env)  # the index jobs the creation queued: the reindex covers them
    env.cr.commit()

    index = service._get_index()  # open the store and load the model outside the timer
    index.embedder.embed_documents(["aquecimento"])
    Outbox.action_reindex_catalogue()
    env.cr.commit()
    job = Outbox.search([("job_type", "=", "reindex"), ("state", "=", "pending")])
    started = time.perf_counter()
    handled = Outbox._cron_process()
    env.cr.commit()
    reindex_s = time.perf_counter() - started
    env.invalidate_all()
    if job.state != "done" or handled != 1:
        raise RuntimeError(f"the reindex job did not complete: state {job.state}, error {job.last_error}")
    indexed = Product.with_context(active_test=False).search_count([("semantic_index_state", "=", "indexed")])
    total = Product.with_context(active_test=False).search_count([])

    # the library alone on documents of the same products, in this process
    sample_ids = Product.search([], order="id", limit=params["library_sample"]).ids
    started = time.perf_counter()
    documents = [service._product_document(record) for record in service._products_for_sync(sample_ids)]
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    index.upsert(documents)
    upsert_s = time.perf_counter() - started
    _emit(
        {
            "created": created,
            "create_per_s": round(created / create_s, 1),
            "outbox_jobs_cleared": cleared,
            "products_in_db": total,
            "indexed": indexed,
            "reindex_s": round(reindex_s, 2),
            "per_s": round(indexed / reindex_s, 1),
            "library_sample": len(documents),
            "library_upsert_per_s": round(len(documents) / upsert_s, 1),
            "odoo_documents_per_s": round(len(documents) / build_s, 1),
        }
    )


def _shell_webhooks(env, params):
    from odoo import Command

    admin_env = env(user=env.ref("base.user_admin").id)
    Product = admin_env["product.template"]
    Endpoint = env["semantic.webhook.endpoint"]
    Delivery = env["semantic.webhook.delivery"]
    Outbox = env["semantic.outbox"]
    updated = env.ref(f"{MODULE}.semantic_webhook_event_product_updated")
    endpoint_values = {"name": "odoo_bench receiver", "url": params["url"], "event_ids": [Command.set(updated.ids)]}
    writes, blocks, warmup = params["writes"], params["blocks"], 5
    per_block = writes // blocks
    ids = Product.search([], order="id").ids
    needed = 2 * blocks * (per_block + warmup) + params["deliveries"]
    if len(ids) < needed:
        raise RuntimeError(f"{needed} products needed, {len(ids)} in the database")
    pool = iter(ids)

    def timed_writes(count):
        samples = []
        # one record browsed alone, as a form save does (no prefetching across the catalogue)
        for product in [Product.browse(next(pool)) for _ in range(count)]:
            price = round(product.list_price + 1.0, 2)  # read outside the timer
            started = time.perf_counter()
            product.write({"list_price": price})
            admin_env.flush_all()
            samples.append(time.perf_counter() - started)
        return samples

    # 3. enqueue overhead: alternating blocks without and with an endpoint, each distinct products
    without, with_one = [], []
    for _ in range(blocks):
        timed_writes(warmup)  # caches (cleared by the endpoint changes) filled outside the samples
        without += timed_writes(per_block)
        endpoint = Endpoint.create(endpoint_values)
        timed_writes(warmup)
        with_one += timed_writes(per_block)
        queued = Delivery.search_count([("endpoint_id", "=", endpoint.id)])
        if queued != per_block + warmup:
            raise RuntimeError(f"{queued} deliveries queued for {per_block + warmup} writes")
        endpoint.unlink()  # its deliveries go with it
    _open_jobs_done(env)
    env.cr.commit()

    # 4. deliveries per second
    endpoint = Endpoint.create(endpoint_values)
    env.cr.commit()
    started = time.perf_counter()
    for product in [Product.browse(next(pool)) for _ in range(params["deliveries"])]:
        product.write({"list_price": round(product.list_price + 1.0, 2)})
    admin_env.flush_all()
    enqueue_s = time.perf_counter() - started
    env.cr.commit()
    pending = Delivery.search_count([("endpoint_id", "=", endpoint.id), ("state", "=", "pending")])
    cleared = _open_jobs_done(env, [("job_type", "!=", "webhook")])  # only webhook jobs are timed
    env.cr.commit()
    batches, started = 0, time.perf_counter()
    while time.perf_counter() - started < params["drain_timeout"]:
        handled = Outbox._cron_process()  # what the cron's server action calls; ir.cron commits after each call
        env.cr.commit()
        batches += 1
        if not handled:
            break
    drain_s = time.perf_counter() - started
    env.invalidate_all()
    states = {
        state: count
        for state, count in Delivery._read_group([("endpoint_id", "=", endpoint.id)], ["state"], ["__count"])
    }
    durations = Delivery.search([("endpoint_id", "=", endpoint.id), ("state", "=", "delivered")]).mapped("duration_ms")
    _emit(
        {
            "enqueue_ms_0_endpoints": [round(value * 1000, 3) for value in without],
            "enqueue_ms_1_endpoint": [round(value * 1000, 3) for value in with_one],
            "deliveries_queued": pending,
            "queue_writes_s": round(enqueue_s, 2),
            "other_jobs_cleared": cleared,
            "states": states,
            "drain_s": round(drain_s, 3),
            "batches": batches,
            "request_ms_median": round(statistics.median(durations), 1) if durations else None,
        }
    )


# ----------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-receiver"]:
        serve_receiver()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=10_000, help="products for the reindex (default 10000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the database and the data directory")
    args = parser.parse_args(argv)
    needed = 2 * ENQUEUE_BLOCKS * (ENQUEUE_WRITES // ENQUEUE_BLOCKS + 5) + DELIVERIES
    if args.products < needed:
        parser.error(f"--products must be at least {needed} (the webhook parts write to distinct products)")

    from odoo import release

    from odoo_search_lib.bench import synthetic_catalogue

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on kill too
    wall = time.perf_counter()
    run = Run(args.keep)
    log(f"database {run.db}, data directory {run.tmp}")
    result: dict = {"odoo": release.version, "database": "PostgreSQL", "products": args.products}
    try:
        result["install_s"] = round(run.install(), 1)
        log(f"{MODULE} installed in {result['install_s']} s")
        categories = sorted(
            {doc.category for doc in synthetic_catalogue(EDIT_PRODUCTS, seed=1)}
            | {doc.category for doc in synthetic_catalogue(args.products, seed=7)}
        )
        setup = run.shell("setup", {"config": CONFIG, "categories": categories}, timeout=300)

        log("1/4 edit -> visible through the search route")
        result["edit_to_visible"] = bench_edit_to_visible(run, setup)

        log(f"2/4 reindex throughput: creating {args.products} products, then Reindex catalogue")
        reindex = run.shell(
            "reindex",
            {"categories": setup["categories"], "products": args.products, "library_sample": 2000},
            timeout=1800,
        )
        result["reindex"] = {
            "timed": "Reindex catalogue: action_reindex_catalogue() queues the job, then one "
            "semantic.outbox._cron_process() (runs semantic.search.service.reindex_products(): documents read "
            "with the ORM, embedded, encoded, written to a new collection, alias switched, index states "
            "stored) + commit; model loaded and the creation's outbox jobs marked done before the timer",
            "products_indexed": reindex["indexed"],
            "seconds": reindex["reindex_s"],
            "per_s": reindex["per_s"],
            "library_upsert_per_s_same_products": reindex["library_upsert_per_s"],
            "library_upsert_timed": f"SearchIndex.upsert() of {reindex['library_sample']} documents of the same "
            "products, prebuilt, same process (embedding + sparse encoding + store write)",
            "odoo_documents_per_s": reindex["odoo_documents_per_s"],
            "orm_create_per_s": reindex["create_per_s"],
            "orm_create_timed": "product.template.create() of 500 values at a time + commit, outbox enqueue included",
        }

        log("3/4 + 4/4 webhooks")
        receiver, port = start_receiver(run)
        try:
            hooks = run.shell(
                "webhooks",
                {
                    "url": f"http://127.0.0.1:{port}/hooks/odoo",
                    "writes": ENQUEUE_WRITES,
                    "blocks": ENQUEUE_BLOCKS,
                    "deliveries": DELIVERIES,
                    "drain_timeout": DRAIN_TIMEOUT_S,
                },
                timeout=900,
            )
            received = http_json(f"http://127.0.0.1:{port}/count", timeout=10)[1]["received"]
        finally:
            run.stop(receiver, grace=5)
        without = statistics.median(hooks["enqueue_ms_0_endpoints"])
        with_one = statistics.median(hooks["enqueue_ms_1_endpoint"])
        result["webhook_enqueue"] = {
            "timed": "product.write({'list_price': ...}) + env.flush_all() in odoo shell as the admin user, "
            "each write on a different product browsed alone, in one transaction; "
            f"{ENQUEUE_BLOCKS} alternating blocks of {ENQUEUE_WRITES // ENQUEUE_BLOCKS} writes without any "
            "endpoint and with one endpoint subscribed to product.updated (5 unmeasured writes after each "
            "endpoint change, which clears the registry caches)",
            "writes_per_case": len(hooks["enqueue_ms_0_endpoints"]),
            "median_ms_0_endpoints": round(without, 3),
            "median_ms_1_endpoint": round(with_one, 3),
            "overhead_ms": round(with_one - without, 3),
            "target_ms": 2.0,
        }
        delivered = hooks["states"].get("delivered", 0)
        result["webhook_delivery"] = {
            "timed": f"{hooks['deliveries_queued']} pending product.updated deliveries (one write each, committed) "
            "drained by semantic.outbox._cron_process() + commit per call until nothing is due (index jobs of "
            "the writes marked done first); receiver: ThreadingHTTPServer on 127.0.0.1, backlog 64, answers 200, "
            "own process; default webhook_workers (8) and outbox_batch_size (100)",
            "deliveries": hooks["deliveries_queued"],
            "delivered": delivered,
            "states": hooks["states"],
            "received_by_receiver": received,
            "seconds": hooks["drain_s"],
            "per_s": round(delivered / hooks["drain_s"], 1),
            "cron_calls": hooks["batches"],
            "request_ms_median": hooks["request_ms_median"],
            "target_per_s": 50,
        }
    finally:
        run.cleanup()
    result["wall_s"] = round(time.perf_counter() - wall, 1)

    if args.json:
        print(json.dumps(result))
        return 0
    edit, reindex, enqueue, delivery = (
        result[key] for key in ("edit_to_visible", "reindex", "webhook_enqueue", "webhook_delivery")
    )
    print(f"Odoo {result['odoo']}, {MODULE} installed in {result['install_s']} s; whole run {result['wall_s']} s")
    print(
        f"1. edit -> visible: median {edit['median_s']} s, max {edit['max_s']} s over {edit['renames']} renames "
        f"(target <= {edit['target_s']} s)\n   timed: {edit['timed']}"
    )
    print(
        f"2. reindex: {reindex['products_indexed']} products in {reindex['seconds']} s = {reindex['per_s']} "
        f"products/s (library alone on the same products: {reindex['library_upsert_per_s_same_products']}/s)"
        f"\n   timed: {reindex['timed']}"
    )
    print(
        f"3. webhook enqueue: {enqueue['median_ms_0_endpoints']} ms without endpoint, "
        f"{enqueue['median_ms_1_endpoint']} ms with one: +{enqueue['overhead_ms']} ms per write "
        f"(target < {enqueue['target_ms']} ms)\n   timed: {enqueue['timed']}"
    )
    print(
        f"4. deliveries: {delivery['delivered']}/{delivery['deliveries']} in {delivery['seconds']} s = "
        f"{delivery['per_s']}/s (target >= {delivery['target_per_s']}/s)\n   timed: {delivery['timed']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
