"""A first build with embedding processes, then threads, against the raw embedder on one thread: wall and CPU.

    python bench/parallel_embedding.py [--n 1500] [--nice 10] [--json]

On a shared machine wall-clock ratios swing with the other processes' load; the CPU each product costs
does not. ``limit_on_2_cores`` is ``cores x single-thread CPU per text / CPU per product of the build``:
the ratio a build reaches when it has the cores to itself (the embedding processes' CPU is read from
``/proc``, so that figure needs Linux).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time

from odoo_search_lib import SearchIndex, Settings
from odoo_search_lib.bench import synthetic_catalogue
from odoo_search_lib.config import EmbedderSettings, StoreSettings
from odoo_search_lib.documents import dense_text


def _children_cpu() -> float:
    """CPU seconds used so far by this process's live multiprocessing children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            with open(f"/proc/{child.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _settings(path: str, parallel: str = "auto", nice: int = 10) -> Settings:
    return Settings().replace(
        store=StoreSettings(backend="edge", path=path), embedder=EmbedderSettings(parallel=parallel, worker_nice=nice)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--nice", type=int, default=10, help="embedder.worker_nice of the builds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    report: dict[str, object] = {"n": args.n, "cpus": cores, "load_avg_1m_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp, SearchIndex(_settings(tmp)) as index:
        index.embedder.embed_query("warm up")
        texts = [dense_text(doc) for doc in synthetic_catalogue(args.n, seed=5)]
        wall, cpu = time.perf_counter(), time.process_time()
        index.embedder.embed_documents(texts)
        single_wall, single_cpu = time.perf_counter() - wall, time.process_time() - cpu
    single_rate = args.n / single_wall
    report["single_thread"] = {"per_s": round(single_rate, 1), "cpu_ms_per_text": round(single_cpu / args.n * 1e3, 2)}
    for seed, mode in enumerate(("processes", "threads"), 50):
        docs = list(synthetic_catalogue(args.n, seed=seed))  # other texts: the embedding cache is cold
        with tempfile.TemporaryDirectory() as tmp, SearchIndex(_settings(tmp, mode, args.nice)) as index:
            index.warm_up()
            wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            index.upsert(docs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            children = _children_cpu() - children
            pool = index.embedding_pool()
            if pool is not None:
                pool.close()
        per_product = (cpu + children) / args.n
        report[mode] = {
            "per_s": round(args.n / wall, 1),
            "vs_single_thread": round(args.n / wall / single_rate, 2),
            "cpu_ms_per_product": round(per_product * 1e3, 2),
            "cpu_ms_calling_process": round(cpu / args.n * 1e3, 2),
            "cpu_ms_workers": round(children / args.n * 1e3, 2),
            f"limit_on_{cores}_cores": round(cores * single_cpu / args.n / per_product, 2),
        }
    report["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
