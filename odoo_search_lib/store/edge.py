"""The embedded backend: Qdrant's engine in-process (``qdrant-edge-py``), persistent on disk.

Layout of a store directory::

    <path>/.lock               flock held while a process has the store open
    <path>/aliases.json        {"alias": "collection"}, replaced atomically
    <path>/collections/<name>/ one Qdrant Edge shard per collection
    <path>/copies/<name>/      a collection being copied (create_collection_from), moved into
                               collections/ when whole

The store is single-process by design: a second process (an Odoo prefork
worker, a second Odoo node, a CLI run) gets :class:`StoreLockedError` at once
instead of a corrupted directory. Point such deployments at a Qdrant server.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import multiprocessing
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import qdrant_edge as qe

from .._child import detach
from ..exceptions import SearchLibError, StoreError, StoreLockedError
from ..sparse import SparseVector
from ..types import Filters, JSONValue
from .base import (
    OVERSAMPLING,
    PAYLOAD_SCHEMA,
    QUANTILE,
    SCROLL_PAGE,
    Condition,
    Point,
    ScoredPoint,
    SignalQuery,
    StoreBase,
    check_quantization,
    filter_conditions,
    point_id,
)

__all__ = ["OFFLOAD_MIN_POINTS", "OFFLOAD_NICE", "UPDATE_SLICE", "EdgeStore"]

_logger = logging.getLogger(__name__)

#: Builds of at least this many points are optimised in a child process (:meth:`EdgeStore.optimize`); below
#: it the engine builds no HNSW graph and the optimisation takes milliseconds.
OFFLOAD_MIN_POINTS = 4_000
#: The child's priority below this process: searches and requests first.
OFFLOAD_NICE = 10

#: Dense queries search the int8 copies and re-score on the originals; a collection without them (made
#: before them, or with store.quantization "none") ignores it.
_RESCORED = qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING))

#: Points per engine update. The engine keeps the GIL through an update, so a search in another thread
#: of this process waits for one slice at most.
UPDATE_SLICE = 32

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
_SCHEMA_TYPES = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "integer": qe.PayloadSchemaType.Integer,
    "float": qe.PayloadSchemaType.Float,
}


class EdgeStore(StoreBase):
    """A directory of embedded Qdrant shards, one per collection."""

    backend = "edge"
    upsert_slice = UPDATE_SLICE

    def __init__(self, path: str | os.PathLike[str], *, quantization: str = "int8") -> None:
        check_quantization(quantization)
        self.path = Path(path)
        self.quantization = quantization
        try:
            (self.path / "collections").mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self.path / ".lock", "a+")  # noqa: SIM115 - held for the store's life
        except OSError as exc:
            raise StoreError(f"cannot open the embedded store at {self.path}: {exc}") from exc
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise StoreLockedError(
                f"the embedded store {self.path} is already open by {holder}. The embedded store serves one "
                "process only: with Odoo workers > 0 or several processes, use a Qdrant server "
                "(store backend 'qdrant' with its URL)."
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}")
        self._lock_file.flush()
        shutil.rmtree(self.path / "copies", ignore_errors=True)  # copies a crash left half done (no one else is here)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._away: dict[str, threading.Event] = {}  # collections a child process is optimising
        self._write_locks: dict[str, threading.Lock] = {}
        self._mutex = threading.RLock()
        self._guard = _ReadWriteLock()
        # This process holds the store's lock, so its copy of the aliases is authoritative:
        # searches read it from memory, writes go to memory and to disk.
        try:
            self._alias_map = self._read_aliases()
        except BaseException:
            self._release_lock()  # a store that failed to open must not stay locked
            raise
        self._closed = False

    # -- collections -------------------------------------------------------

    def _dir(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise StoreError(f"invalid collection name {name!r}")
        return self.path / "collections" / name

    def _shard(self, name: str) -> qe.EdgeShard:
        self._check_open()
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        self._back(name)
        with self._mutex:
            if name not in self._shards:
                directory = self._dir(name)
                if not directory.is_dir():
                    raise StoreError(f"collection {name!r} does not exist in {self.path}")
                try:
                    self._shards[name] = qe.EdgeShard.load(str(directory))
                except Exception as exc:  # the binding raises plain Exception
                    raise _translate(exc, directory) from exc
            return self._shards[name]

    def _back(self, name: str) -> None:
        """Wait while a child process optimises ``name`` (:meth:`optimize`). Callers wait here before they
        take the store's guard, so that a long wait never holds it (:meth:`_shard` waits too, as a last resort)."""
        while (away := self._away.get(name)) is not None:
            away.wait()

    def create_collection(self, name: str, dense_dim: int) -> None:
        self._check_open()
        directory = self._dir(name)
        with self._mutex:
            if directory.exists():
                raise StoreError(f"collection {name!r} already exists in {self.path}")
            config = qe.EdgeConfig(
                vectors={
                    "dense": qe.EdgeVectorParams(
                        size=dense_dim,
                        distance=qe.Distance.Cosine,
                        quantization_config=(
                            qe.ScalarQuantizationConfig(
                                type=qe.ScalarType.Int8, quantile=QUANTILE, memory=qe.Memory.Pinned
                            )
                            if self.quantization == "int8"
                            else None
                        ),
                    )
                },
                sparse_vectors={
                    "bm25": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf),
                    "chars": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf),
                },
            )
            try:
                shard = qe.EdgeShard.create(str(directory), config)
                for field, kind in PAYLOAD_SCHEMA.items():
                    shard.update(qe.UpdateOperation.create_field_index(field, _SCHEMA_TYPES[kind]))
            except Exception as exc:
                shutil.rmtree(directory, ignore_errors=True)
                raise _translate(exc, directory) from exc
            self._shards[name] = shard

    def create_collection_from(self, source: str, name: str, dense_dim: int) -> bool:
        """Create ``name`` as a file copy of ``source`` (its points, vectors, payload indexes and HNSW graph) when
        ``source`` has the configuration and payload indexes a new collection gets now (a changed quantization,
        dimension or library layout gives an empty collection instead). Searches of ``source`` go on meanwhile;
        its writes wait for the copy."""
        self.create_collection(name, dense_dim)
        try:
            return self._copy(source, name)
        except BaseException:
            self.drop_collection(name)
            raise

    def _copy(self, source: str, name: str) -> bool:
        source_dir, directory = self._dir(source), self._dir(name)
        self._back(source)
        with self._writing(source):  # writes to the source wait until its files are copied
            with self._guard.shared(), _engine_errors(f"failed to copy {source!r}"):
                original = self._shard(source)
                made, new = _layout(source_dir, original), _layout(directory, self._shards[name])
                # the engine writes the defaults it resolved into a loaded shard's file: compare what a new one sets
                if made is None or new is None or made[1] != new[1]:
                    return False
                if any(made[0].get(key) != value for key, value in new[0].items()):
                    return False
                original.flush()  # the files hold every write so far
            partial = self.path / "copies" / name  # not a collection until it is whole (a crash leaves it here)
            try:
                # No guard meanwhile: searches and other collections go on; a drop of the source waits (_writing).
                shutil.copytree(source_dir, partial, copy_function=_copy_file)
                with self._mutex, _engine_errors(f"failed to open the copy of {source!r}"):
                    self._shards.pop(name).close()
                    shutil.rmtree(directory)
                    partial.rename(directory)
                    self._shards[name] = qe.EdgeShard.load(str(directory))
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
        return True

    def drop_collection(self, name: str) -> None:
        self._check_open()
        directory = self._dir(name)
        self._back(name)
        # Its writes, a copy of it and a child optimising it finish first; then, exclusive, any search.
        with self._writing(name), self._guard.exclusive(), self._mutex:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            self._write_locks.pop(name, None)
            shutil.rmtree(directory, ignore_errors=True)
            aliases = {alias: target for alias, target in self._aliases().items() if target != name}
            self._write_aliases(aliases)

    def collection_exists(self, name: str) -> bool:
        return self._dir(name).is_dir()

    def list_collections(self) -> list[str]:
        return sorted(entry.name for entry in (self.path / "collections").iterdir() if entry.is_dir())

    # -- aliases -----------------------------------------------------------

    def _aliases(self) -> dict[str, str]:
        return dict(self._alias_map)

    def _read_aliases(self) -> dict[str, str]:
        path = self.path / "aliases.json"
        try:
            aliases = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        if not isinstance(aliases, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
        ):
            raise StoreError(f"{path} is not an alias map; restore it or reindex into a new store")
        return aliases

    def _write_aliases(self, aliases: Mapping[str, str]) -> None:
        """Replace ``aliases.json`` durably: a crash or power cut leaves the old map or the new one, whole."""
        tmp = self.path / "aliases.json.tmp"
        with open(tmp, "wb") as handle:
            handle.write(json.dumps(dict(sorted(aliases.items())), indent=1).encode())
            handle.flush()
            os.fsync(handle.fileno())  # the new content is on disk before it gets the real name
        os.replace(tmp, self.path / "aliases.json")  # atomic on POSIX
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself is on disk
        finally:
            os.close(directory)
        self._alias_map = dict(aliases)

    def get_alias(self, alias: str) -> str | None:
        return self._alias_map.get(alias)

    def set_alias(self, alias: str, collection: str) -> None:
        self._check_open()
        if not self.collection_exists(collection):
            raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}")
        self._back(collection)
        with self._guard.shared():
            self._shard(collection).flush()  # before the mutex: loading a shard takes it
            with self._mutex:
                aliases = self._aliases()
                aliases[alias] = collection
                self._write_aliases(aliases)

    # -- points ------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Write ``points`` in updates of :data:`UPDATE_SLICE`: each is atomic, and an error leaves the
        slices before it written (upserts are idempotent: write the batch again)."""
        for start in range(0, len(points), UPDATE_SLICE):
            edge_points = [
                qe.Point(
                    id=point_id(point.doc_id),
                    vector={
                        "dense": point.dense.tolist(),
                        "bm25": _sparse(point.bm25),
                        "chars": _sparse(point.chars),
                    },
                    payload={**point.payload, "doc_id": point.doc_id},
                )
                for point in points[start : start + UPDATE_SLICE]
            ]
            with self._writing(collection), self._guard.shared(), _engine_errors("rejected an update"):
                self._shard(collection).update(qe.UpdateOperation.upsert_points(edge_points))

    def delete(self, collection: str, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            with self._writing(collection), self._guard.shared(), _engine_errors("rejected an update"):
                operation = qe.UpdateOperation.delete_points([point_id(doc_id) for doc_id in doc_ids])
                self._shard(collection).update(operation)

    def optimize(self, collection: str) -> None:
        """Build the HNSW and sparse indexes now (the embedded engine has no background optimizer).

        The engine keeps the GIL while it builds an HNSW graph (about a minute at 100,000 products), which
        would stop every other thread of this process: searches, and Odoo's requests. A collection of at
        least :data:`OFFLOAD_MIN_POINTS` that no alias points at (a build) is therefore optimised in a
        spawned child process, at ``nice`` +:data:`OFFLOAD_NICE`: the shard is closed here, optimised
        there and loaded again; writes to it wait meanwhile. A live collection, which searches read, and
        a small one are optimised here. If the child fails, this process optimises it, with a WARNING.
        """
        if collection not in self._alias_map.values() and self.count(collection) >= OFFLOAD_MIN_POINTS:
            started = time.monotonic()
            with self._offline(collection) as directory:
                failure = _optimize_in_child(directory)
            if failure is None:
                _logger.debug("optimised %s in a child process in %.1f s", collection, time.monotonic() - started)
                return
            _logger.warning("optimising %s in a child process failed (%s): optimising it here", collection, failure)
        self._back(collection)
        with self._writing(collection), self._guard.shared(), _engine_errors(f"failed to optimise {collection!r}"):
            shard = self._shard(collection)
            shard.optimize()
            shard.flush()

    def _writing(self, collection: str) -> threading.Lock:
        """The lock a write to ``collection`` holds, for a copy of it to see no write half done."""
        with self._mutex:
            return self._write_locks.setdefault(collection, threading.Lock())

    @contextmanager
    def _offline(self, collection: str) -> Iterator[str]:
        """Close ``collection``'s shard here for another process to open its directory. Its writes wait
        meanwhile (its write lock is held), its readers too (:meth:`_back`); it is loaded again on next use."""
        directory = self._dir(collection)
        back = threading.Event()
        with self._writing(collection):
            with self._mutex:
                if collection in self._away:
                    raise StoreError(f"collection {collection!r} is already being optimised")
                self._away[collection] = back
            try:
                with self._guard.shared(), _engine_errors(f"failed to flush {collection!r}"):
                    loaded = self._shards.get(collection)  # not _shard(): that would wait for this very optimise
                    if loaded is not None:
                        loaded.flush()
                # exclusive only to close it: a search or read still using it finishes first
                with self._guard.exclusive(), self._mutex, _engine_errors(f"failed to close {collection!r}"):
                    shard = self._shards.pop(collection, None)
                    if shard is not None:
                        shard.close()
                yield str(directory)
            finally:
                with self._mutex:
                    del self._away[collection]
                back.set()

    def count(self, collection: str, filters: Filters | None = None) -> int:
        self._back(collection)
        with self._guard.shared(), _engine_errors("failed to count points"):
            request = qe.CountRequest(filter=_filter(filter_conditions(filters)), exact=True)
            return self._shard(collection).count(request)

    def _scroll_fields(self, collection: str, fields: list[str]) -> Iterator[list[Mapping[str, JSONValue]]]:
        offset = None
        while True:
            self._back(collection)
            with self._guard.shared(), _engine_errors("failed to scroll points"):
                request = qe.ScrollRequest(offset=offset, limit=SCROLL_PAGE, with_payload=fields, with_vector=False)
                records, offset = self._shard(collection).scroll(request)
            yield [record.payload or {} for record in records]
            if offset is None:
                return

    def payloads(
        self, collection: str, point_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        if not point_ids:
            return {}
        self._back(collection)
        with self._guard.shared(), _engine_errors("failed to retrieve points"):
            wanted = True if fields is None else list(fields)
            records = self._shard(collection).retrieve(list(point_ids), with_payload=wanted, with_vector=False)
        return {str(record.id): record.payload for record in records if record.payload}

    def query(
        self, collection: str, queries: Sequence[SignalQuery], filters: Filters | None = None
    ) -> list[list[ScoredPoint]]:
        self._back(collection)
        with self._guard.shared(), _engine_errors("failed a query"):
            edge_filter = _filter(filter_conditions(filters))
            requests = []
            for query in queries:
                vector = _sparse(query.vector) if isinstance(query.vector, SparseVector) else query.vector.tolist()
                requests.append(
                    qe.QueryRequest(
                        limit=query.limit,
                        query=qe.Query.Nearest(vector, using=query.using),
                        filter=edge_filter if query.filtered else None,
                        with_payload=query.with_payload,
                        params=_RESCORED if query.using == "dense" else None,
                    )
                )
            batches = self._shard(collection).query_batch(qe.QueryBatchRequest(requests))
        return [[ScoredPoint(str(p.id), p.score, p.payload or {}) for p in batch] for batch in batches]

    def close(self) -> None:
        if self._closed:
            return
        for away in list(self._away.values()):  # a child optimising a collection writes in this store
            away.wait()
        with self._guard.exclusive(), self._mutex:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            self._closed = True
            self._release_lock()

    def _release_lock(self) -> None:
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
        self._lock_file.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the embedded store {self.path} is closed")

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ReadWriteLock:
    """Many readers (searches, updates) or one writer (dropping a collection, closing the store).

    A waiting writer goes before new readers, so a steady stream of searches cannot starve a
    reindex that wants to drop the old collection.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@contextmanager
def _engine_errors(action: str) -> Iterator[None]:
    """Map anything the engine or the conversions raise to StoreError (library errors pass through)."""
    try:
        yield
    except SearchLibError:
        raise
    except Exception as exc:  # the binding raises plain Exception, conversions TypeError/ValueError
        raise StoreError(f"the embedded store {action}: {exc}") from exc


def _sparse(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), list(vector.values))


def _filter(conditions: list[Condition]) -> qe.Filter | None:
    if not conditions:
        return None
    must = []
    for condition in conditions:
        if condition.any_of is not None:
            match = (
                qe.MatchValue(condition.any_of[0])
                if len(condition.any_of) == 1
                else qe.MatchAny(list(condition.any_of))
            )
            must.append(qe.FieldCondition(condition.key, match=match))
        else:
            must.append(qe.FieldCondition(condition.key, range=qe.RangeFloat(gte=condition.gte, lte=condition.lte)))
    return qe.Filter(must=must)


def _translate(exc: Exception, directory: Path) -> StoreError:
    if "WouldBlock" in str(exc):
        return StoreLockedError(
            f"the embedded collection {directory} is open in another process; the embedded store serves one "
            "process only (use a Qdrant server for several)"
        )
    return StoreError(f"the embedded store failed at {directory}: {exc}")


def _layout(directory: Path, shard: qe.EdgeShard) -> tuple[dict[str, object], list[tuple[str, str]]] | None:
    """What a collection was made with: the engine's configuration file and the payload indexes (``None`` if
    the file cannot be read: then the collection is not copied)."""
    try:
        config = json.loads((directory / "edge_config.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    indexes = sorted((field, str(info.data_type)) for field, info in shard.info().payload_schema.items())
    return config, indexes


def _copy_file(source: str, target: str) -> str:
    """``shutil.copytree``'s copy function, keeping the holes of sparse files: the engine preallocates its
    pages and WAL segments as sparse files, which a plain copy writes out in full (many times a small
    collection's disk space). No package copies sparse files; the standard
    library has the system calls (Linux), and elsewhere this is a plain copy."""
    if not hasattr(os, "SEEK_DATA") or not hasattr(os, "copy_file_range"):
        return shutil.copy2(source, target)
    with open(source, "rb") as src, open(target, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        dst.truncate(size)
        offset = 0
        try:
            while offset < size:
                try:
                    data = os.lseek(src.fileno(), offset, os.SEEK_DATA)
                except OSError as exc:
                    if exc.errno == errno.ENXIO:  # only a hole is left
                        break
                    raise
                offset = os.lseek(src.fileno(), data, os.SEEK_HOLE)
                while data < offset:
                    copied = os.copy_file_range(src.fileno(), dst.fileno(), offset - data, data, data)
                    if copied == 0:
                        raise OSError(errno.EIO, f"{source} ended while being copied")
                    data += copied
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EOPNOTSUPP):
                raise
            return shutil.copy2(source, target)  # a file system without these calls
    shutil.copystat(source, target)
    return target


def _optimize_in_child(directory: str) -> str | None:
    """Optimise the shard in ``directory`` in a spawned process; ``None`` when done, else what went wrong."""
    try:
        child = multiprocessing.get_context("spawn").Process(
            target=_optimize_shard, args=(directory, OFFLOAD_NICE), name="odoo-search-optimize", daemon=True
        )
        child.start()
    except (OSError, RuntimeError, AssertionError) as exc:  # limits, a sandbox, a daemonic caller
        return str(exc) or type(exc).__name__
    child.join()
    return None if child.exitcode == 0 else f"exit code {child.exitcode}"


def _optimize_shard(directory: str, nice: int) -> None:  # in the child process
    # detach()'s watch on the parent cannot run while the engine holds the GIL: a child whose parent
    # died finishes this optimisation (up to about a minute), then leaves.
    detach(nice)
    shard = qe.EdgeShard.load(directory)
    try:
        shard.optimize()
        shard.flush()
    finally:
        shard.close()
