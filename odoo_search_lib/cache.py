"""Two-level cache: an in-process LRU with TTL, plus Redis when configured.

The searcher caches query embeddings (about 3 ms of an 8 ms search) under a key
built from the model fingerprint and the query text::

    cache = TwoLevelCache(settings.tenant, redis_url=settings.redis_url)
    key = cache_key(model_fingerprint, text)
    vector = cache.get_vector(key)
    if vector is None:
        vector = embedder.embed_query(text)
        cache.set_vector(key, vector)

- Level 1 (:class:`LRUCache`) lives in the process: thread-safe, bounded,
  least-recently-used entries evicted first, entries expire after a TTL.
- Level 2 is Redis, shared by every Odoo worker. It is optional, and it is a
  cache, so it may never fail a request: any Redis error (connection refused,
  timeout, server gone mid-run) is logged once at WARNING with the URL's
  password masked, Redis is skipped for ``retry_after`` seconds (a small
  circuit breaker) and the call answers from level 1.

Every key carries the tenant (the Odoo database name): ``oss:<namespace>:<key>``.
The index or model version belongs in the key itself (see :func:`cache_key`),
so a new model never reads vectors of the old one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import numpy as np

from ._http import redact, redact_url, url_secrets
from .exceptions import ConfigError

__all__ = [
    "KEY_PREFIX",
    "LRUCache",
    "RedisClient",
    "RedisPipeline",
    "TwoLevelCache",
    "cache_key",
    "decode_vector",
    "encode_vector",
]

_log = logging.getLogger(__name__)

#: First segment of every Redis key this library writes.
KEY_PREFIX = "oss"
#: Same rule as ``Settings.tenant`` (an Odoo database name); it can never contain ``:``,
#: so ``oss:<namespace>:<key>`` is unambiguous whatever the key holds.
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

# Vector values: magic, number of dimensions, then one uint32 per dimension, then little-endian float32 data.
_VECTOR_MAGIC = b"OSV1"
_VECTOR_HEAD = struct.Struct("<4sB")
_MAX_NDIM = 8
#: What :meth:`TwoLevelCache._call` returns when Redis is off, skipped or failed.
_NO_ANSWER: Any = object()

_T = TypeVar("_T")


class RedisPipeline(Protocol):
    """The commands of a ``redis.client.Pipeline`` that :meth:`TwoLevelCache.call_redis` operations use."""

    def get(self, name: str) -> object: ...

    def getex(self, name: str, ex: int | None = None) -> object: ...

    def set(self, name: str, value: bytes, ex: int | None = None) -> object: ...

    def delete(self, *names: str) -> object: ...

    def execute(self) -> list[object]: ...


class RedisClient(Protocol):
    """The part of ``redis.Redis`` (``decode_responses=False``) an operation given to
    :meth:`TwoLevelCache.call_redis` may rely on; the library never needs the ``redis`` package to import."""

    def get(self, name: str) -> bytes | None: ...

    def set(self, name: str, value: bytes, ex: int | None = None) -> bool | None: ...

    def delete(self, *names: str) -> int: ...

    def pipeline(self, transaction: bool = True) -> RedisPipeline: ...

    def close(self) -> None: ...


def cache_key(*parts: str) -> str:
    """Hash ``parts`` into a short, fixed-length key (40 hex digits).

    Each part is length-prefixed before hashing, so ``("ab", "c")`` and
    ``("a", "bc")`` differ; user text of any length or content (newlines, NUL,
    lone surrogates) is safe. Typical parts: model fingerprint, index version, text.
    """
    if not parts:
        raise ValueError("cache_key needs at least one part")
    digest = hashlib.blake2b(digest_size=20, person=b"oss-cache-key")
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"cache_key parts must be strings, not {type(part).__name__}")
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def encode_vector(vector: np.ndarray) -> bytes:
    """Serialise an array as float32 with a small header (magic, shape), see :func:`decode_vector`."""
    array = np.asarray(vector, dtype=np.float32)
    if not 1 <= array.ndim <= _MAX_NDIM:
        raise ValueError(f"a cached vector must have 1 to {_MAX_NDIM} dimensions (got {array.ndim})")
    header = _VECTOR_HEAD.pack(_VECTOR_MAGIC, array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
    return header + array.astype("<f4", copy=False).tobytes(order="C")


def decode_vector(data: bytes) -> np.ndarray | None:
    """Rebuild an array written by :func:`encode_vector`; anything else (corrupt, foreign) gives ``None``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    data = bytes(data)
    if len(data) < _VECTOR_HEAD.size:
        return None
    magic, ndim = _VECTOR_HEAD.unpack_from(data)
    if magic != _VECTOR_MAGIC or not 1 <= ndim <= _MAX_NDIM:
        return None
    offset = _VECTOR_HEAD.size + 4 * ndim
    if len(data) < offset:
        return None
    shape = struct.unpack_from(f"<{ndim}I", data, _VECTOR_HEAD.size)
    if len(data) - offset != 4 * int(np.prod(shape, dtype=np.int64)):
        return None
    return np.frombuffer(data, dtype="<f4", offset=offset).reshape(shape).astype(np.float32)


class LRUCache:
    """A thread-safe in-process cache of bytes: least-recently-used eviction and a TTL.

    ``clock`` returns seconds (``time.monotonic`` by default; tests inject a fake).
    Expired entries are dropped when read, or evicted like any other entry.
    ``hits`` and ``misses`` count :meth:`get` answers (an expired entry is a miss).
    """

    def __init__(self, maxsize: int = 10_000, ttl: float = 300.0, *, clock: Callable[[], float] = time.monotonic):
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ConfigError(f"cache maxsize must be an integer >= 1 (got {maxsize!r})")
        _check_ttl("cache ttl", ttl)
        self.maxsize = maxsize
        self.ttl = float(ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, or ``None`` if absent or expired; a hit makes it most recent."""
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] <= self._clock():
                del self._data[key]
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return entry[1]

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (the cache's default when ``None``), evicting beyond ``maxsize``."""
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"cache values must be bytes, not {type(value).__name__}")
        if ttl is not None:
            _check_ttl("ttl", ttl)
        value = bytes(value)
        with self._lock:
            self._data[key] = (self._clock() + (self.ttl if ttl is None else float(ttl)), value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
                self.evictions += 1

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error if absent)."""
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        """Forget every entry (the counters are kept)."""
        with self._lock:
            self._data.clear()

    def stats(self) -> dict[str, int]:
        """Counters and current size, for logs and health endpoints."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "evictions": self.evictions, "size": len(self._data)}

    def __len__(self) -> int:
        """Entries held, expired ones not yet dropped included."""
        with self._lock:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` holds a live entry (does not count as a hit or change recency)."""
        if not isinstance(key, str):
            return False
        with self._lock:
            entry = self._data.get(key)
            return entry is not None and entry[0] > self._clock()


class TwoLevelCache:
    """Level 1 in-process, level 2 in Redis (optional); one tenant's keys under ``oss:<namespace>:``.

    ``redis_url=""`` keeps everything in the process. With a URL, reads go to
    level 1 then Redis (a Redis hit fills level 1), writes go to both, Redis
    values expire after ``redis_ttl`` seconds. Redis errors never escape: see
    the module docstring. ``socket_timeout`` bounds every Redis call (connect
    included) and redis-py's own retries are disabled, so a dead Redis costs
    at most one timeout per ``retry_after`` seconds.
    """

    def __init__(
        self,
        namespace: str,
        *,
        redis_url: str = "",
        maxsize: int = 10_000,
        ttl: float = 300.0,
        redis_ttl: int = 3600,
        socket_timeout: float = 0.05,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace):
            raise ConfigError("cache namespace must be 1-63 letters, digits, '_', '.' or '-' (an Odoo database name)")
        if isinstance(redis_ttl, bool) or not isinstance(redis_ttl, int) or redis_ttl < 1:
            raise ConfigError(f"cache redis_ttl must be an integer >= 1 second (got {redis_ttl!r})")
        _check_ttl("cache socket_timeout", socket_timeout)
        if isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)) or not 0 <= retry_after < 1e9:
            raise ConfigError(f"cache retry_after must be >= 0 (got {retry_after!r})")
        self.namespace = namespace
        self.l1 = LRUCache(maxsize, ttl, clock=clock)
        self.redis_ttl = redis_ttl
        self.retry_after = float(retry_after)
        self._clock = clock
        self._prefix = f"{KEY_PREFIX}:{namespace}:"
        self._safe_url = redact_url(redis_url) if redis_url else ""
        self._secrets = url_secrets(redis_url) if redis_url else []
        self._lock = threading.Lock()
        self._down_until: float | None = None  # set while the circuit breaker is open
        self.redis_hits = 0
        self.redis_misses = 0
        self.redis_errors = 0
        self._redis: Any = self._connect(redis_url, socket_timeout) if redis_url else None

    def _connect(self, url: str, socket_timeout: float) -> Any:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise ConfigError(
                "a Redis cache URL is set but the redis package is missing: pip install 'odoo-search-lib[redis]'"
            ) from exc
        try:
            # from_url connects lazily: a server that is down is found (and survived) on first use.
            return redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                decode_responses=False,
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"invalid Redis cache URL {self._safe_url}: {self._redact(str(exc))}") from None

    @property
    def redis_enabled(self) -> bool:
        """Whether a Redis URL is configured (whether or not the server answers right now)."""
        return self._redis is not None

    @property
    def redis_available(self) -> bool:
        """Whether the next call will try Redis (configured, and the circuit breaker is closed or due a retry)."""
        with self._lock:
            return self._redis is not None and (self._down_until is None or self._clock() >= self._down_until)

    def full_key(self, key: str) -> str:
        """The Redis key for ``key``: ``oss:<namespace>:<key>``."""
        if not isinstance(key, str):
            raise TypeError(f"cache keys must be strings, not {type(key).__name__}")
        return self._prefix + key

    def get(self, key: str) -> bytes | None:
        """Level 1, then Redis (filling level 1 on a hit); ``None`` on a miss or when Redis fails."""
        full = self.full_key(key)
        value = self.l1.get(full)
        if value is not None:
            return value
        value = self._call(lambda client: client.get(full))
        if value is _NO_ANSWER:
            return None
        hit = isinstance(value, bytes)  # anything else (None, or str under decode_responses) is a miss
        with self._lock:
            if hit:
                self.redis_hits += 1
            else:
                self.redis_misses += 1
        if not hit:
            return None
        self.l1.set(full, value)
        return value

    def set(self, key: str, value: bytes) -> None:
        """Store ``value`` in level 1 and, when available, in Redis for ``redis_ttl`` seconds."""
        full = self.full_key(key)
        self.l1.set(full, value)
        data = bytes(value)
        self._call(lambda client: client.set(full, data, ex=self.redis_ttl))

    def delete(self, key: str) -> None:
        """Forget ``key`` in both levels (Redis only when available)."""
        full = self.full_key(key)
        self.l1.delete(full)
        self._call(lambda client: client.delete(full))

    def clear_local(self) -> None:
        """Empty level 1 only; Redis entries expire by themselves (``redis_ttl``)."""
        self.l1.clear()

    def get_vector(self, key: str) -> np.ndarray | None:
        """A vector stored by :meth:`set_vector` (float32), or ``None``; a corrupt or foreign value is a miss."""
        data = self.get(key)
        if data is None:
            return None
        vector = decode_vector(data)
        if vector is None:
            _log.debug("cache value for %s in namespace %s is not a vector; treated as a miss", key, self.namespace)
            self.l1.delete(self.full_key(key))
        return vector

    def set_vector(self, key: str, vector: np.ndarray) -> None:
        """Store ``vector`` as float32 (with its shape) in both levels."""
        self.set(key, encode_vector(vector))

    def call_redis(self, operation: Callable[[RedisClient], _T]) -> _T | None:
        """Run ``operation(client)`` on Redis through the circuit breaker; ``None`` if Redis is off, skipped or failed.

        For batches (pipelines) the single-key methods above cannot express; level 1 is not involved.
        """
        result = self._call(operation)
        return None if result is _NO_ANSWER else result

    def stats(self) -> dict[str, object]:
        """Level 1 counters plus Redis hits, misses, errors and state."""
        return {
            "l1": self.l1.stats(),
            "redis_hits": self.redis_hits,
            "redis_misses": self.redis_misses,
            "redis_errors": self.redis_errors,
            "redis": "off" if self._redis is None else ("up" if self.redis_available else "down"),
        }

    def close(self) -> None:
        """Close the Redis connections (the cache keeps working from level 1)."""
        client, self._redis = self._redis, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not fail either
                pass

    def __repr__(self) -> str:
        return f"TwoLevelCache(namespace={self.namespace!r}, redis={self._safe_url or 'off'!r})"

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        """Run ``operation`` on the Redis client; ``_NO_ANSWER`` if Redis is off, skipped (breaker open) or failed."""
        client = self._redis
        if client is None or not self.redis_available:
            return _NO_ANSWER
        try:
            result = operation(client)
        except Exception as exc:  # noqa: BLE001 - any Redis failure degrades to level 1, never fails the caller
            self._trip(exc)
            return _NO_ANSWER
        with self._lock:
            recovered = self._down_until is not None
            self._down_until = None
        if recovered:
            _log.info("Redis cache at %s is reachable again (namespace %s)", self._safe_url, self.namespace)
        return result

    def _trip(self, exc: BaseException) -> None:
        with self._lock:
            self.redis_errors += 1
            first = self._down_until is None
            self._down_until = self._clock() + self.retry_after
        reason = self._redact(f"{type(exc).__name__}: {exc}")
        if first:
            _log.warning(
                "Redis cache at %s is unavailable (%s); using the in-process cache only, next attempt in %g s",
                self._safe_url,
                reason,
                self.retry_after,
            )
        else:
            _log.debug("Redis cache at %s still unavailable (%s)", self._safe_url, reason)

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def _check_ttl(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a finite number > 0 (got {value!r})")
