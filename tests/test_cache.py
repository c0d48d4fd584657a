"""Tests of the two-level cache against a real ``redis-server`` started by these tests.

No mocks: Redis failures are real (a closed port, a listener that never answers,
a server terminated mid-run). Time is a fake clock injected into the caches, so
TTLs and the circuit breaker are tested without sleeping.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from odoo_search_lib.cache import LRUCache, TwoLevelCache, cache_key, decode_vector, encode_vector
from odoo_search_lib.exceptions import ConfigError

try:
    import redis
except ImportError:  # reported by the redis_binary fixture: a failure under CI, a skip elsewhere
    redis = None  # type: ignore[assignment]

LOGGER = "odoo_search_lib.cache"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(binary: str, workdir: Path, port: int | None = None) -> RedisServer:
    """Start ``redis-server`` on 127.0.0.1 (a free port unless given) and wait until it answers PING."""
    workdir.mkdir(parents=True, exist_ok=True)
    last_log = ""
    for _attempt in range(5):  # another process may grab the free port first: pick another
        chosen = port or _free_port()
        log = workdir / f"redis-{chosen}.log"
        command = [
            binary,
            "--port",
            str(chosen),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(log),
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(process, chosen)
        client = server.client()
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return server
            except redis.RedisError:
                time.sleep(0.01)
        server.stop()
        last_log = log.read_text(errors="replace") if log.exists() else ""
        if port is not None:
            break
    pytest.fail(f"redis-server did not start: {last_log[-2000:]}")


def _unavailable(message: str) -> NoReturn:
    """A missing Redis prerequisite fails under CI (which must run these tests) and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the Redis cache tests")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_package() -> None:
    if redis is None:
        _unavailable("the redis package is not installed: pip install 'odoo-search-lib[redis]'")


@pytest.fixture(scope="session")
def redis_binary(redis_package: None) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("the redis-server binary is not installed (Debian/Ubuntu: apt-get install redis-server)")
    return binary


@pytest.fixture(scope="session")
def redis_server(redis_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole session, on a free 127.0.0.1 port, no persistence."""
    server = _start_redis(redis_binary, tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def raw_redis(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client()
    yield client
    client.close()


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A tenant name of this test's own, so tests sharing the session server cannot see each other's keys."""
    return f"t{abs(hash(request.node.nodeid)) % 10**12}-{os.getpid()}"


@pytest.fixture
def closed_port(redis_package: None) -> int:
    """A 127.0.0.1 port nobody listens on."""
    return _free_port()


@pytest.fixture
def make_cache() -> Iterator[Callable[..., TwoLevelCache]]:
    """Build TwoLevelCache instances; their Redis connections are closed after the test."""
    caches: list[TwoLevelCache] = []

    def make(namespace: str, **kwargs: object) -> TwoLevelCache:
        cache = TwoLevelCache(namespace, **kwargs)  # type: ignore[arg-type]
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        cache.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER and record.levelno == logging.WARNING]


# --- cache_key and the vector format ---------------------------------------------------------------------------


def test_cache_key_is_fixed_length_deterministic_and_unambiguous() -> None:
    key = cache_key("usem3:v2", "camiseta azul")
    assert key == cache_key("usem3:v2", "camiseta azul")
    assert len(key) == 40 and all(c in "0123456789abcdef" for c in key)
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("usem3:v2", "camiseta azul") != cache_key("usem3:v3", "camiseta azul")
    assert cache_key("a") != cache_key("a", "")


@pytest.mark.parametrize("text", ["x" * 100_000, "nul\x00byte\nline", "lone \ud800 surrogate", "ção 🚀", ""])
def test_cache_key_accepts_any_user_text(text: str) -> None:
    key = cache_key("model", text)
    assert len(key) == 40 and ":" not in key and key.isascii()


def test_cache_key_rejects_non_strings_and_no_parts() -> None:
    with pytest.raises(TypeError):
        cache_key("model", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cache_key()


def test_vector_encoding_round_trips_and_rejects_garbage() -> None:
    vector = np.random.default_rng(7).standard_normal((2, 5)).astype(np.float32)
    decoded = decode_vector(encode_vector(vector))
    assert decoded is not None and decoded.dtype == np.float32 and decoded.shape == (2, 5)
    assert np.array_equal(decoded, vector)
    decoded[0, 0] = 42.0  # a decoded vector is the caller's own, writable copy
    data = encode_vector(vector)
    for garbage in (b"", b"garbage", b"OSV1", data[:-1], data + b"\x00", b"XXXX" + data[4:], b"OSV1\x00" + data[5:]):
        assert decode_vector(garbage) is None, garbage
    with pytest.raises(ValueError):
        encode_vector(np.float32(1.0))


# --- LRUCache --------------------------------------------------------------------------------------------------


def test_lru_get_set_overwrite_delete_clear_and_stats() -> None:
    cache = LRUCache(maxsize=10)
    assert cache.get("a") is None
    cache.set("a", b"1")
    cache.set("a", b"2")
    assert cache.get("a") == b"2"
    assert len(cache) == 1 and "a" in cache and "b" not in cache
    cache.set("b", bytearray(b"3"))
    assert cache.get("b") == b"3" and isinstance(cache.get("b"), bytes)
    cache.delete("a")
    cache.delete("missing")
    assert cache.get("a") is None
    assert cache.stats() == {"hits": 3, "misses": 2, "evictions": 0, "size": 1}
    cache.clear()
    assert len(cache) == 0 and cache.get("b") is None
    assert (cache.hits, cache.misses) == (3, 3)


def test_lru_evicts_least_recently_used() -> None:
    cache = LRUCache(maxsize=3)
    for key in "abc":
        cache.set(key, key.encode())
    assert cache.get("a") == b"a"  # "a" becomes most recent, "b" is now the oldest
    cache.set("d", b"d")
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == [b"a", b"c", b"d"]
    cache.set("c", b"c2")  # rewriting refreshes recency too: order is now a, d, c
    cache.set("e", b"e")
    assert "a" not in cache and {"c", "d", "e"} == {key for key in "abcde" if key in cache}
    assert cache.evictions == 2


def test_lru_entries_expire_after_ttl_with_an_injected_clock() -> None:
    clock = FakeClock()
    cache = LRUCache(maxsize=10, ttl=60, clock=clock)
    cache.set("default", b"1")
    cache.set("short", b"2", ttl=5)
    cache.set("long", b"3", ttl=600)
    clock.advance(4.5)
    assert [cache.get(key) for key in ("default", "short", "long")] == [b"1", b"2", b"3"]
    clock.advance(0.5)  # exactly at the TTL: expired
    assert cache.get("short") is None and "short" not in cache
    clock.advance(55)
    assert cache.get("default") is None
    assert cache.get("long") == b"3"
    cache.set("default", b"4")  # rewriting restarts the TTL
    clock.advance(59)
    assert cache.get("default") == b"4"
    clock.advance(600)
    assert cache.get("long") is None and cache.get("default") is None
    assert len(cache) == 0
    assert (cache.hits, cache.misses) == (5, 4)


def test_lru_rejects_bad_settings_and_values() -> None:
    for kwargs in ({"maxsize": 0}, {"maxsize": 2.5}, {"ttl": 0}, {"ttl": float("inf")}, {"ttl": float("nan")}):
        with pytest.raises(ConfigError):
            LRUCache(**kwargs)  # type: ignore[arg-type]
    cache = LRUCache()
    with pytest.raises(TypeError):
        cache.set("k", "text")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        cache.set("k", b"v", ttl=-1)


def test_lru_is_thread_safe() -> None:
    # A small cache, few keys and a clock that ticks on every read, so that eviction, expiry, deletion and
    # recency updates of the same keys interleave across threads all the time.
    ticks = itertools.count()
    cache = LRUCache(maxsize=4, ttl=40, clock=lambda: float(next(ticks)))
    errors: list[BaseException] = []
    threads_count, rounds = 8, 8000
    start = threading.Barrier(threads_count)

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                key = f"k{(i * 7 + worker) % 9}"
                cache.set(key, key.encode())
                value = cache.get(f"k{(i * 5 + worker) % 9}")
                assert value is None or value.startswith(b"k")
                if i % 3 == 0:
                    cache.delete(key)
                assert len(cache) <= 4
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to shake out races
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert len(cache) <= 4
    assert cache.hits + cache.misses == threads_count * rounds  # no lost counter update
    assert cache.hits > 0 and cache.misses > 0 and cache.evictions > 0


# --- TwoLevelCache without Redis -------------------------------------------------------------------------------


def test_two_level_cache_in_process_only() -> None:
    clock = FakeClock()
    cache = TwoLevelCache("shop1", maxsize=2, ttl=10, clock=clock)
    assert not cache.redis_enabled and not cache.redis_available
    assert cache.full_key("k") == "oss:shop1:k"
    assert cache.get("k") is None
    cache.set("k", b"v")
    assert cache.get("k") == b"v"
    vector = np.arange(8, dtype=np.float32) / 3
    cache.set_vector("vec", vector)
    found = cache.get_vector("vec")
    assert found is not None and np.array_equal(found, vector)
    cache.set("raw", b"not a vector")
    assert cache.get_vector("raw") is None
    assert cache.get("raw") is None  # the non-vector value was dropped, not returned again
    clock.advance(10)
    assert cache.get_vector("vec") is None
    assert cache.stats()["redis"] == "off"
    assert "redis='off'" in repr(cache)


@pytest.mark.parametrize("namespace", ["", "a:b", "a b", "-x", "x" * 64, None])
def test_two_level_cache_rejects_bad_namespaces(namespace: object) -> None:
    with pytest.raises(ConfigError):
        TwoLevelCache(namespace)  # type: ignore[arg-type]


def test_two_level_cache_rejects_bad_settings() -> None:
    bad = [{"redis_ttl": 0}, {"redis_ttl": 1.5}, {"socket_timeout": 0}, {"retry_after": -1}, {"retry_after": None}]
    for kwargs in bad:
        with pytest.raises(ConfigError):
            TwoLevelCache("shop", **kwargs)  # type: ignore[arg-type]


def test_missing_redis_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # what `import redis` does when the package is not installed
    with pytest.raises(ConfigError, match=r"pip install 'odoo-search-lib\[redis\]'"):
        TwoLevelCache("shop", redis_url="redis://127.0.0.1:6379/0")
    assert TwoLevelCache("shop").get("k") is None  # without a URL the package is not needed


def test_invalid_redis_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        TwoLevelCache("shop", redis_url="http://:s3cret@127.0.0.1:6379/0")
    assert "s3cret" not in str(caught.value)
    assert "***@127.0.0.1:6379" in str(caught.value)


# --- TwoLevelCache with a real redis-server --------------------------------------------------------------------


def test_a_second_worker_reads_through_redis(
    redis_server: RedisServer, raw_redis: redis.Redis, namespace: str, make_cache: Callable[..., TwoLevelCache]
) -> None:
    worker1 = make_cache(namespace, redis_url=redis_server.url)
    worker2 = make_cache(namespace, redis_url=redis_server.url)
    assert worker1.redis_available
    worker1.set("k", b"value")
    assert raw_redis.get(f"oss:{namespace}:k") == b"value"
    assert 0 < raw_redis.ttl(f"oss:{namespace}:k") <= 3600
    assert worker2.get("k") == b"value"  # worker2's level 1 was empty: this came from Redis
    assert worker2.stats()["redis_hits"] == 1
    raw_redis.delete(f"oss:{namespace}:k")
    assert worker2.get("k") == b"value"  # the Redis hit filled level 1
    assert worker2.stats()["redis_hits"] == 1 and worker2.stats()["l1"]["hits"] == 1
    assert worker2.get("absent") is None and worker2.stats()["redis_misses"] == 1
    worker1.delete("k")
    assert worker1.get("k") is None
    assert worker2.stats()["redis"] == "up"


def test_redis_ttl_is_applied(
    redis_server: RedisServer, raw_redis: redis.Redis, namespace: str, make_cache: Callable[..., TwoLevelCache]
) -> None:
    cache = make_cache(namespace, redis_url=redis_server.url, redis_ttl=120)
    cache.set("k", b"v")
    assert 0 < raw_redis.ttl(f"oss:{namespace}:k") <= 120


def test_namespaces_isolate_tenants(
    redis_server: RedisServer, raw_redis: redis.Redis, namespace: str, make_cache: Callable[..., TwoLevelCache]
) -> None:
    tenant_a = make_cache(f"{namespace}-a", redis_url=redis_server.url)
    tenant_b = make_cache(f"{namespace}-b", redis_url=redis_server.url)
    tenant_a.set("same-key", b"from A")
    assert tenant_b.get("same-key") is None
    tenant_b.set("same-key", b"from B")
    assert tenant_a.get("same-key") == b"from A"
    reader_a = make_cache(f"{namespace}-a", redis_url=redis_server.url)  # empty level 1: reads Redis
    assert reader_a.get("same-key") == b"from A"
    assert sorted(raw_redis.keys(f"oss:{namespace}-*")) == [
        f"oss:{namespace}-a:same-key".encode(),
        f"oss:{namespace}-b:same-key".encode(),
    ]


def test_vectors_round_trip_exactly_through_redis(
    redis_server: RedisServer, namespace: str, make_cache: Callable[..., TwoLevelCache]
) -> None:
    writer = make_cache(namespace, redis_url=redis_server.url)
    reader = make_cache(namespace, redis_url=redis_server.url)
    rng = np.random.default_rng(3)
    vectors = {
        "query": rng.standard_normal(512).astype(np.float32),
        "batch": rng.standard_normal((3, 16)).astype(np.float32),
        "special": np.array([0.0, -0.0, 1e-45, -3.4e38, np.float32(1) / 3], dtype=np.float32),
    }
    for name, vector in vectors.items():
        writer.set_vector(cache_key("model-v1", name), vector)
    for name, vector in vectors.items():
        found = reader.get_vector(cache_key("model-v1", name))
        assert found is not None and found.dtype == np.float32 and found.shape == vector.shape
        assert found.tobytes() == vector.tobytes()  # bit for bit, signed zero and subnormals included
    assert reader.stats()["redis_hits"] == len(vectors)
    writer.set_vector("f64", np.array([0.1, 0.2], dtype=np.float64))  # stored as float32
    found = reader.get_vector("f64")
    assert found is not None and np.array_equal(found, np.array([0.1, 0.2], dtype=np.float32))


FOREIGN_VALUES = [
    b"garbage",
    b"",
    b"OSV1\x01\x04\x00\x00\x00\x00\x00",  # right header, 4 floats announced, 2 bytes present
    np.ones(4, dtype=np.float64).tobytes(),  # a bare float64 array written by something else
]


@pytest.mark.parametrize("corrupt", FOREIGN_VALUES, ids=["garbage", "empty", "truncated", "headerless-f64"])
def test_corrupt_redis_value_is_a_miss(
    corrupt: bytes,
    redis_server: RedisServer,
    raw_redis: redis.Redis,
    namespace: str,
    make_cache: Callable[..., TwoLevelCache],
) -> None:
    raw_redis.set(f"oss:{namespace}:vec", corrupt)
    cache = make_cache(namespace, redis_url=redis_server.url)
    assert cache.get_vector("vec") is None
    assert cache.get("vec") == corrupt  # the bytes are still readable as bytes; only the vector view misses
    cache.set_vector("vec", np.ones(4, dtype=np.float32))  # and the next write replaces the bad value
    fresh = make_cache(namespace, redis_url=redis_server.url)
    found = fresh.get_vector("vec")
    assert found is not None and np.array_equal(found, np.ones(4, dtype=np.float32))


def test_redis_down_answers_from_level_1_and_warns_once(
    closed_port: int, make_cache: Callable[..., TwoLevelCache], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cache = make_cache("shop", redis_url=f"redis://127.0.0.1:{closed_port}/0", retry_after=30, clock=clock)
    assert cache.redis_available
    cache.set("k", b"v")  # Redis refuses: the write lands in level 1 only, and the breaker opens
    assert cache.stats()["redis_errors"] == 1 and cache.stats()["redis"] == "down"
    assert cache.get("k") == b"v"
    assert cache.get("other") is None
    cache.set_vector("vec", np.ones(3))
    found = cache.get_vector("vec")
    assert found is not None and np.array_equal(found, np.ones(3, dtype=np.float32))
    cache.delete("k")
    assert cache.stats()["redis_errors"] == 1  # breaker open: Redis was not tried again
    clock.advance(30)
    assert cache.redis_available
    assert cache.get("other") is None  # retried, failed again
    assert cache.stats()["redis_errors"] == 2
    clock.advance(30)
    cache.set("k2", b"v2")
    assert cache.stats()["redis_errors"] == 3
    assert cache.get("k2") == b"v2"
    warnings = _warnings(caplog)
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert f"127.0.0.1:{closed_port}" in warnings[0].getMessage()
    assert "in-process cache only" in warnings[0].getMessage()


def test_redis_password_never_reaches_logs_or_repr(
    closed_port: int, make_cache: Callable[..., TwoLevelCache], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    url = f"redis://:s3cret@127.0.0.1:{closed_port}/0"
    cache = make_cache("shop", redis_url=url, retry_after=0)
    for _ in range(3):
        cache.set("k", b"v")
        assert cache.get("missing") is None
    assert cache.stats()["redis_errors"] == 6
    assert len(_warnings(caplog)) == 1
    assert "***@127.0.0.1" in caplog.text
    assert "s3cret" not in caplog.text
    assert "s3cret" not in repr(cache)
    query_url = f"redis://127.0.0.1:{closed_port}/0?password=s3cret"
    make_cache("shop", redis_url=query_url).get("k")
    assert "s3cret" not in caplog.text


def test_redis_that_never_answers_times_out_into_level_1(
    redis_package: None, make_cache: Callable[..., TwoLevelCache], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        cache = make_cache("shop", redis_url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0", socket_timeout=0.05)
        cache.set("k", b"v")
        assert cache.get("k") == b"v"
        assert cache.get("missing") is None
        cache.set("k2", b"v2")
        # Count the connections the cache opened (the kernel queued them; nothing was accepted yet):
        # one timeout opens the breaker, and redis-py's own retries are off, so exactly one.
        silent.setblocking(False)
        accepted = []
        while True:
            try:
                accepted.append(silent.accept()[0])
            except BlockingIOError:
                break
        for connection in accepted:
            connection.close()
    assert len(accepted) == 1
    assert cache.stats()["redis_errors"] == 1
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "Timeout" in warnings[0].getMessage()


def test_redis_stopped_mid_run_falls_back_then_recovers(
    redis_binary: str,
    tmp_path: Path,
    make_cache: Callable[..., TwoLevelCache],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = _start_redis(redis_binary, tmp_path / "redis")
    try:
        clock = FakeClock()
        caplog.set_level(logging.INFO, logger=LOGGER)
        cache = make_cache("shop", redis_url=server.url, retry_after=30, clock=clock)
        cache.set("before", b"1")
        assert make_cache("shop", redis_url=server.url).get("before") == b"1"  # Redis is really in use
        assert cache.stats()["redis_errors"] == 0

        server.stop()
        assert cache.get("before") == b"1"  # level 1 still answers
        assert cache.get("never-set") is None  # Redis fails: a miss, not an exception
        cache.set("during", b"2")
        assert cache.get("during") == b"2"
        assert cache.stats()["redis_errors"] == 1 and cache.stats()["redis"] == "down"
        assert len(_warnings(caplog)) == 1

        server = _start_redis(redis_binary, tmp_path / "redis", port=server.port)
        cache.set("still-skipped", b"3")  # the breaker is open: not written to Redis
        clock.advance(30)
        cache.set("after", b"4")  # first call after retry_after: Redis is back
        assert cache.stats()["redis"] == "up"
        other_worker = make_cache("shop", redis_url=server.url)
        assert other_worker.get("after") == b"4"
        assert other_worker.get("still-skipped") is None
        assert any("reachable again" in record.getMessage() for record in caplog.records)
        assert len(_warnings(caplog)) == 1
    finally:
        server.stop()
