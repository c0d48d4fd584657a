"""The cache of document vectors: never embed the same text twice.

A document's dense vector is stored under a key made of the tenant, the
embedder's fingerprint (provider, model, dimension) and the exact text that was
embedded (:func:`~odoo_search_lib.documents.dense_text`). A rebuild, or an edit
that leaves that text alone (a price, the stock), finds the vector instead of
embedding again; any change to the text, the model or the dimension is a new
key, so an old vector can never be served for new text. BM25 and character
vectors are cheap and are always recomputed.

Where it lives (:func:`open_vector_cache`):

- embedded store: a SQLite file, ``<store.path>/embedding-cache.sqlite3``;
- Qdrant server: Redis when ``redis_url`` is set (every worker and node shares it);
- ``embedding_cache.path`` set: that SQLite file, whatever the store.
- Qdrant server without Redis and without a path: no cache (logged once at INFO).
  A Qdrant collection could hold the vectors, but it has no "least recently used"
  order to evict by, and the point of server mode is several processes, which a
  local file serves only per machine.

Why SQLite (the standard library's ``sqlite3``): one file, atomic transactions,
readers and a writer from several threads or processes at once (WAL mode), a
clear error on a damaged file, and nothing to install. A flat ``.npy`` file
cannot be updated in place; ``shelve``/``dbm`` have no transactions and vary by
platform.

Every stored value is ``checksum (8 bytes) + float32 vector``; the checksum
covers the key and the vector, so a damaged or misplaced row is a miss, never a
wrong vector. Vectors of the wrong length or with NaN/inf are misses too.

Failures never fail a build: a damaged file (SQLite reports it corrupt, or it is
not a database) is deleted and recreated with a WARNING; any other error (disk
full, read-only, locked too long, Redis down) is logged once at WARNING and the
cache is skipped for ``retry_after`` seconds, so the build embeds as if there
were no cache.

Size: the SQLite cache keeps at most ``max_entries`` vectors. Each hit records
the time of use (to the minute); when a write takes the file over the limit,
the least recently used vectors are deleted down to 90 % of it. In Redis every
entry expires ``redis_ttl`` seconds after its last use (a hit renews it), and
the server's ``maxmemory-policy`` (``allkeys-lru`` recommended) bounds it too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypedDict

import numpy as np

from .cache import RedisClient, TwoLevelCache, cache_key
from .config import Settings
from .embeddings import Embedder, fingerprint
from .embeddings.parallel import EmbedderPool, EmbeddingJob
from .exceptions import EmbeddingError

__all__ = [
    "CachedEmbedding",
    "RedisVectorCache",
    "SQLiteVectorCache",
    "VectorCache",
    "VectorCacheStats",
    "open_vector_cache",
    "vector_key",
]

_log = logging.getLogger(__name__)

FILE_NAME = "embedding-cache.sqlite3"
_CHECKSUM = 8
#: SQLite's limit on bound parameters is 32766 since 3.32 (999 before): stay well below.
_CHUNK = 500
#: Use times are recorded to the minute: a hit writes only if the row was last used earlier.
_USE_RESOLUTION = 60
#: A writer waits for another (a thread, a worker process) up to 30 s: on a loaded machine 5 s ran out,
#: and the cache then stood aside for a minute.
_BUSY_TIMEOUT = 30.0


class VectorCache(Protocol):
    """Vectors by key; a miss, a damaged value or a failing backend all read as absent."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors found, by key (``(dim,)`` float32)."""
        ...

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        """Store vectors; errors are logged, never raised."""
        ...

    def close(self) -> None: ...


def vector_key(tenant: str, model: str, text: str) -> str:
    """The cache key of ``text`` embedded by the model whose fingerprint is ``model``, for ``tenant``."""
    return cache_key("document-vector", tenant, model, text)


def _pack(key: str, vector: np.ndarray) -> bytes:
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return _checksum(key, data) + data


def _unpack(key: str, value: object, dim: int) -> np.ndarray | None:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return None
    value = bytes(value)
    if len(value) != _CHECKSUM + 4 * dim or value[:_CHECKSUM] != _checksum(key, value[_CHECKSUM:]):
        return None
    vector = np.frombuffer(value, dtype="<f4", offset=_CHECKSUM).astype(np.float32)
    return vector if np.isfinite(vector).all() else None


def _checksum(key: str, data: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=_CHECKSUM, person=b"oss-vector")
    digest.update(key.encode("ascii"))
    digest.update(data)
    return digest.digest()


class VectorCacheStats(TypedDict):
    """:meth:`SQLiteVectorCache.stats`: lookups that found a vector, lookups that did not, SQLite errors, the file."""

    hits: int
    misses: int
    errors: int
    path: str


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting for another connection doing the same.

    SQLite answers "database is locked" at once, without its busy handler, when two connections switch a
    new file to WAL together (two threads opening a new cache often did); the cache then stood aside for
    a minute. So the switch is retried here, within the same deadline as a write.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SQLiteVectorCache:
    """Vectors of one dimension in a SQLite file (WAL mode), least recently used evicted first.

    Safe from several threads (one connection behind a lock) and several processes (SQLite's
    locking; each process, including a forked child, opens its own connection). ``clock``
    returns seconds since the epoch (tests move it by hand).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        dim: int,
        *,
        max_entries: int = 250_000,
        retry_after: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.dim = dim
        self.max_entries = max_entries
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._down_until = 0.0
        self._size: int | None = None  # entries in the file, counted when first needed
        self.hits = 0
        self.misses = 0
        self.errors = 0

    # -- public ------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if not keys:
            return found
        with self._lock:
            result = self._guard(lambda conn: self._get(conn, list(keys)))
            if result is not None:
                found = result
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        rows = [
            (bytes.fromhex(key), _pack(key, vector))
            for key, vector in items
            if np.shape(vector) == (self.dim,) and np.isfinite(vector).all()
        ]
        if rows:
            with self._lock:
                self._guard(lambda conn: self._put(conn, rows))

    def __len__(self) -> int:
        with self._lock:
            count = self._guard(lambda conn: conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
        return int(count or 0)

    def stats(self) -> VectorCacheStats:
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors, "path": str(self.path)}

    def close(self) -> None:
        with self._lock:
            self._disconnect()

    # -- SQLite ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self._conn = None  # a connection inherited through fork() must not be used (nor closed) here
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            _switch_to_wal(conn)
            # NORMAL: a power cut may lose the last writes (a cache can afford that), never corrupt the file.
            conn.execute("PRAGMA synchronous=NORMAL")
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'vectors_used'").fetchone():
                # one write transaction: two connections creating the schema of a new file wait for each other
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS vectors "
                    "(key BLOB PRIMARY KEY, value BLOB NOT NULL, used INTEGER NOT NULL)"
                )
                conn.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)")
                conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid, self._size = conn, os.getpid(), None
        return conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _guard(self, operation: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``operation``; on a damaged file recreate it once, on other errors skip the cache a while."""
        if self._clock() < self._down_until:
            return None
        for attempt in (1, 2):
            try:
                return operation(self._connection())
            except (sqlite3.Error, OSError) as exc:
                self.errors += 1
                self._disconnect()
                if attempt == 1 and _is_corrupt(exc):
                    _log.warning("embedding cache %s is damaged (%s): deleting it and starting empty", self.path, exc)
                    if self._delete_files():
                        continue
                self._down_until = self._clock() + self.retry_after
                _log.warning(
                    "embedding cache %s is unavailable (%s: %s); documents are embedded without it for %g s",
                    self.path,
                    type(exc).__name__,
                    exc,
                    self.retry_after,
                )
                return None
        return None  # pragma: no cover - the loop returns

    def _delete_files(self) -> bool:
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            _log.warning("cannot delete the damaged embedding cache %s: %s", self.path, exc)
            return False
        return True

    def _get(self, conn: sqlite3.Connection, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        bad: list[bytes] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = [bytes.fromhex(key) for key in keys[start : start + _CHUNK]]
            marks = ",".join("?" * len(chunk))
            for raw, value in conn.execute(f"SELECT key, value FROM vectors WHERE key IN ({marks})", chunk):  # noqa: S608 - only placeholders
                key = bytes(raw).hex()
                vector = _unpack(key, value, self.dim)
                if vector is None:
                    bad.append(bytes(raw))
                else:
                    found[key] = vector
        now = int(self._clock())
        if found or bad:
            conn.execute("BEGIN IMMEDIATE")
            try:
                hits = [bytes.fromhex(key) for key in found]
                for start in range(0, len(hits), _CHUNK):
                    chunk = hits[start : start + _CHUNK]
                    conn.execute(
                        f"UPDATE vectors SET used = ? WHERE used < ? AND key IN ({','.join('?' * len(chunk))})",  # noqa: S608
                        [now, now - _USE_RESOLUTION, *chunk],
                    )
                if bad:
                    _log.warning("embedding cache %s: %d damaged vector(s) dropped", self.path, len(bad))
                    conn.executemany("DELETE FROM vectors WHERE key = ?", [(key,) for key in bad])
                    self._size = None
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return found

    def _put(self, conn: sqlite3.Connection, rows: list[tuple[bytes, bytes]]) -> None:
        now = int(self._clock())
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO vectors (key, value, used) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, used = excluded.used",
                [(key, value, now) for key, value in rows],
            )
            if self._size is None:
                self._size = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
            else:
                self._size += conn.total_changes - before  # an upper bound: replaced keys count too
            if self._size > self.max_entries:
                self._size = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
            if self._size > self.max_entries:
                excess = self._size - int(self.max_entries * 0.9)
                conn.execute(
                    "DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors ORDER BY used, rowid LIMIT ?)",
                    (excess,),
                )
                self._size -= excess
            conn.execute("COMMIT")
        except BaseException:
            self._size = None
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise


def _is_corrupt(exc: BaseException) -> bool:
    """Whether SQLite says the file is damaged or is not a database at all."""
    name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


class RedisVectorCache:
    """Vectors in Redis under ``oss:<tenant>:<key>``, through :class:`~odoo_search_lib.cache.TwoLevelCache`'s
    connection and circuit breaker (a Redis that is down is skipped, never waited on)."""

    def __init__(self, tenant: str, redis_url: str, dim: int, *, ttl: int = 30 * 24 * 3600) -> None:
        self.dim = dim
        self.ttl = ttl
        # Level 1 is unused here (maxsize 1): document vectors are read once per build, not hot.
        self._redis = TwoLevelCache(tenant, redis_url=redis_url, maxsize=1, redis_ttl=ttl, socket_timeout=1.0)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        if not keys:
            return {}
        names = [self._redis.full_key(key) for key in keys]

        def fetch(client: RedisClient) -> list[object]:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.getex(name, ex=self.ttl)  # a hit renews the entry's life
            return pipe.execute()

        values = self._redis.call_redis(fetch) or []
        found = {}
        # No answer (Redis down or skipped) gives an empty list: every key is a miss.
        for key, value in zip(keys, values, strict=False):
            vector = _unpack(key, value, self.dim)
            if vector is not None:
                found[key] = vector
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        rows = [
            (self._redis.full_key(key), _pack(key, vector))
            for key, vector in items
            if np.shape(vector) == (self.dim,) and np.isfinite(vector).all()
        ]
        if not rows:
            return

        def store(client: RedisClient) -> None:
            pipe = client.pipeline(transaction=False)
            for name, value in rows:
                pipe.set(name, value, ex=self.ttl)
            pipe.execute()

        self._redis.call_redis(store)

    def close(self) -> None:
        self._redis.close()


def open_vector_cache(settings: Settings, embedder: Embedder) -> VectorCache | None:
    """The cache :class:`~odoo_search_lib.index.SearchIndex` uses for ``settings``, or ``None`` (see module doc)."""
    options = settings.embedding_cache
    if not options.enabled:
        return None
    if options.path:
        return SQLiteVectorCache(options.path, embedder.dim, max_entries=options.max_entries)
    if settings.store.backend == "edge" and settings.store.path:
        path = Path(settings.store.path) / FILE_NAME
        return SQLiteVectorCache(path, embedder.dim, max_entries=options.max_entries)
    if settings.redis_url:
        return RedisVectorCache(settings.tenant, settings.redis_url, embedder.dim, ttl=options.redis_ttl)
    _log.info(
        "no embedding cache for tenant %s: the Qdrant server backend needs redis_url or embedding_cache.path",
        settings.tenant,
    )
    return None


class CachedEmbedding:
    """The vectors of ``texts``: cached ones at once, the others on ``workers`` threads or ``pool``'s
    processes, then stored.

    A context manager like :class:`~odoo_search_lib.embeddings.parallel.EmbeddingJob`, which it wraps:
    the caller can work while the misses are embedded, then calls :meth:`result`.
    """

    def __init__(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        *,
        cache: VectorCache | None,
        tenant: str,
        workers: int,
        nice: int = 10,
        pool: EmbedderPool | None = None,
    ) -> None:
        self._cache = cache
        self._vectors: dict[int, np.ndarray] = {}
        self._count = len(texts)
        self._dim = embedder.dim
        keys: list[str] = []
        if cache is not None:
            model = fingerprint(embedder)
            keys = [vector_key(tenant, model, text) for text in texts]
            found = cache.get_many(list(dict.fromkeys(keys)))
            self._vectors = {i: found[key] for i, key in enumerate(keys) if key in found}
        self._missing = [i for i in range(len(texts)) if i not in self._vectors]
        # A text repeated in the batch (product variants, a catalogue's copies) is embedded once.
        unique: dict[str, int] = {}
        self._slots: list[int] = []  # per missing text, its row among the unique ones
        self._firsts: list[int] = []  # per unique text, its first position in ``texts``
        for i in self._missing:
            slot = unique.setdefault(texts[i], len(unique))
            if slot == len(self._firsts):
                self._firsts.append(i)
            self._slots.append(slot)
        self._keys = keys
        self._job = EmbeddingJob(embedder, list(unique), workers=workers, nice=nice, pool=pool)

    def result(self) -> np.ndarray:
        """``(len(texts), dim)`` float32, in the order of ``texts``."""
        out = np.empty((self._count, self._dim), dtype=np.float32)
        for i, vector in self._vectors.items():
            out[i] = vector
        if self._missing:
            fresh = self._job.result()
            if fresh.shape != (len(self._firsts), self._dim):  # an embedder fault; nothing is cached
                raise EmbeddingError(
                    f"the embedder returned vectors of shape {fresh.shape} for {len(self._firsts)} texts "
                    f"of dimension {self._dim}"
                )
            out[self._missing] = fresh[self._slots]
            if self._cache is not None:
                self._cache.put_many([(self._keys[i], fresh[n]) for n, i in enumerate(self._firsts)])
        return out

    def close(self) -> None:
        self._job.close()

    def __enter__(self) -> CachedEmbedding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
