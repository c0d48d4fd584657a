"""``SearchIndex``: the one facade callers use (the Odoo addons, the CLI).

It owns the encoders, the embedder and the store of one tenant, names the
collections, and keeps an alias on the live one::

    alias       <prefix>_<tenant>_<kind>_<embedder fingerprint>
    collection  <alias>_<build timestamp>

Upserts go to the live collection (created on first use). :meth:`reindex`
builds a fresh collection and switches the alias only when the build is
complete, so searches never see a half-built index, and a model change
(a new fingerprint) lands in a new collection instead of mixing vectors.

A rebuild too long for one process or transaction is done in steps:
:meth:`begin_build` creates the new collection, :meth:`write_build` fills it
chunk by chunk (from any process, resumable: writes are idempotent upserts),
:meth:`publish` switches the alias and drops the old collection, and
:meth:`gc` drops builds that were abandoned (a crash, a cancelled rebuild).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ._version import __version__
from .cache import TwoLevelCache
from .config import Settings
from .documents import check_document, dense_text, payload, sparse_text, typo_text
from .embeddings import Embedder, fingerprint, make_embedder
from .embeddings.parallel import POOL_MIN_TEXTS, EmbedderPool, default_workers, parallel_mode, shared_pool
from .exceptions import IndexNotBuiltError, InvalidInputError, StoreError, StoreUnavailableError
from .priority import step_aside
from .search import HybridSearcher, parse_filters
from .sparse import BM25Encoder, CharNgramEncoder
from .store import Point, VectorStore, open_store
from .synonyms import Synonyms, SynonymSet, parse_sets
from .text import Analyzer, fold
from .types import Document, Filters, JSONValue, RefreshReport, SearchResult
from .vectorcache import CachedEmbedding, VectorCache, open_vector_cache

__all__ = ["Progress", "SearchIndex"]

#: ``progress(done, total)`` is called after each batch; ``total`` may be ``None``.
Progress = Callable[[int, "int | None"], None]


class SearchIndex:
    """Index and search the documents of one tenant and one kind."""

    #: How a document becomes the texts of the three signals and its payload (a document kind
    #: with texts of its own, such as business rules' passages, replaces these).
    dense_text = staticmethod(dense_text)
    sparse_text = staticmethod(sparse_text)
    typo_text = staticmethod(typo_text)
    payload = staticmethod(payload)
    #: The tenant's own synonym sets in use (what :meth:`set_synonyms` was last given).
    synonym_sets: tuple[SynonymSet, ...] = ()

    def __init__(
        self,
        settings: Settings,
        *,
        kind: str = "product",
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
    ) -> None:
        self.settings = settings
        self.kind = kind
        self.embedder = embedder or make_embedder(settings.embedder)
        self._fingerprint = fingerprint(self.embedder)
        analyzer = Analyzer(settings.language)
        self.bm25 = BM25Encoder(analyzer, avg_len=settings.search.bm25_avg_len)
        self.chars = CharNgramEncoder(analyzer)
        # What every content hash starts with: the library, the analysis and BM25's parameters (they shape
        # the stored sparse vectors) and the embedding model.
        self._hash_prefix = (
            __version__,
            settings.language,
            f"bm25 k1={self.bm25.k1} b={self.bm25.b} avg_len={self.bm25.avg_len}",
            self._fingerprint,
        )
        # Repeated queries (chat customers ask the same things) skip the embedder; with a Redis URL
        # every worker of the tenant shares the vectors. Built before the store, so a bad cache
        # setting never leaves an embedded store locked.
        self.cache = TwoLevelCache(settings.tenant, redis_url=settings.redis_url)
        # Document vectors by model and exact text, so a rebuild or an edit that keeps the text embeds nothing.
        self.vector_cache: VectorCache | None = open_vector_cache(settings, self.embedder)
        self.embed_workers = default_workers(self.embedder, settings.embedder.workers)
        self._owns_store = store is None
        self.store = store or open_store(settings.store)
        # Writes (upsert, delete, reindex) of one index run one at a time: a concurrent first upsert
        # would otherwise create two live collections, and an upsert during a reindex would land in
        # the collection the reindex is about to drop. Searches never wait for it.
        self._writes = threading.RLock()
        # Budgets, sizes and voltages are read from product queries only: a business rule's query
        # ("frete gratis acima de 200 reais") names the very condition the rule's text holds. The
        # per-query weights were tuned on product searches; on the labelled rule questions they cost
        # hit@3 0.964 -> 0.946, so rules keep the fixed weights.
        search_settings = (
            settings.search if kind == "product" else settings.search.replace(understand=False, coverage_boost=0.0)
        )
        self.searcher = HybridSearcher(
            self.store, self._search_target, self.embedder, self.bm25, self.chars, search_settings, self.cache
        )
        self.set_synonyms(settings.synonyms.sets)

    @property
    def alias(self) -> str:
        raw = f"{self.settings.store.prefix}_{self.settings.tenant}_{self.kind}_{fingerprint(self.embedder)}"
        return re.sub(r"[^A-Za-z0-9_.-]", "-", raw)

    def collection(self) -> str:
        """The live collection, or :class:`IndexNotBuiltError` if nothing was indexed yet."""
        name = self.store.get_alias(self.alias)
        if name is None:
            raise IndexNotBuiltError(
                f"nothing is indexed yet for tenant {self.settings.tenant!r} "
                f"({self.kind}, {fingerprint(self.embedder)}): index or reindex first"
            )
        return name

    def _search_target(self) -> str:
        """What searches name: the alias itself where the store resolves it, else the live collection."""
        return self.alias if self.store.resolves_aliases else self.collection()

    def _ensure_collection(self) -> str:
        name = self.store.get_alias(self.alias)
        if name is None:
            name = self._new_collection()
            self.store.set_alias(self.alias, name)
        return name

    def _new_collection(self) -> str:
        name = self._collection_name()
        self.store.create_collection(name, self.embedder.dim)
        return name

    def _collection_name(self) -> str:
        return f"{self.alias}_{time.time_ns() // 1_000_000}_{uuid.uuid4().hex[:6]}"

    # -- writing -----------------------------------------------------------

    def encode(self, documents: Sequence[Document]) -> list[Point]:
        """Turn documents into points: dense vectors (cached, or embedded by the parallel embedders), sparse
        vectors. A few hundred documents or more go to the embedding processes when this index uses them."""
        pool = self.embedding_pool() if len(documents) >= POOL_MIN_TEXTS else None
        with _Encoding(self, documents, pool) as encoding:
            return encoding.points()

    def embedding_pool(self) -> EmbedderPool | None:
        """The process pool this index's big writes embed in (shared by the indexes of this process with
        the same embedder), or ``None`` when they embed in threads or on one thread."""
        settings = self.settings.embedder
        if self.embed_workers < 2 or parallel_mode(self.embedder, settings.parallel) != "processes":
            return None
        return shared_pool(
            self.embedder, self.embed_workers, nice=settings.worker_nice, idle_seconds=settings.pool_idle_seconds
        )

    def warm_up(self) -> None:
        """Load the model, and start the embedding processes (each loading its model) when big writes use
        them: what a first query and a first build would otherwise wait for (about a second each)."""
        self.embedder.embed_query("warm up")
        self.searcher.words.available()  # the dictionaries of typo correction (about 2 s to read)
        fold("aquecimento é")  # accent folding's table, otherwise built on the first accented text
        pool = self.embedding_pool()
        if pool is not None:
            pool.start(wait=True)

    def encode_sparse(self, documents: Sequence[Document]) -> list[Point]:
        """Points with sparse vectors and payloads, and an empty dense vector to fill in."""
        for document in documents:
            check_document(document)
        return self._sparse_points(documents, [self.dense_text(doc) for doc in documents])

    def _sparse_points(self, documents: Sequence[Document], dense_texts: Sequence[str]) -> list[Point]:
        """:meth:`encode_sparse` of checked ``documents`` whose dense texts the caller has built: each
        text and payload is built once, for the vectors and the content hash alike."""
        empty = np.zeros(0, dtype=np.float32)
        points = []
        for doc, dense in zip(documents, dense_texts, strict=True):
            step_aside()  # a search of this process goes first (see priority)
            payload = self.payload(doc)
            sparse, typo = self.sparse_text(doc), self.typo_text(doc)
            points.append(
                Point(
                    doc_id=doc.id,
                    dense=empty,
                    bm25=self.bm25.encode_document(sparse),
                    chars=self.chars.encode_document(typo),
                    payload={**payload, "content_hash": self._digest(dense, sparse, typo, payload)},
                )
            )
        return points

    def content_hash(self, document: Document, payload: Mapping[str, JSONValue] | None = None) -> str:
        """A digest of everything ``document``'s point is made of: its texts and payload (``payload`` when
        the caller has built it already), the language, the embedding model and the library version.
        :meth:`refresh` rewrites a document when it changed."""
        return self._digest(
            self.dense_text(document),
            self.sparse_text(document),
            self.typo_text(document),
            self.payload(document) if payload is None else payload,
        )

    def _digest(self, dense: str, sparse: str, typo: str, payload: Mapping[str, JSONValue]) -> str:
        parts = (
            *self._hash_prefix,
            dense,
            sparse,
            typo,
            json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str),
        )
        return hashlib.blake2b("\0".join(parts).encode("utf-8"), digest_size=12).hexdigest()

    def upsert(
        self,
        documents: Iterable[Document],
        *,
        batch_size: int = 128,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> int:
        """Add or replace documents in the live collection; returns how many were written."""
        return self._write(self._ensure_collection, documents, batch_size, progress, total)

    def delete(self, doc_ids: Sequence[str]) -> None:
        """Remove documents from the live collection (unknown ids are ignored)."""
        if isinstance(doc_ids, str):
            raise InvalidInputError("delete() takes a list of document ids, not one string")
        with self._writes:
            name = self.store.get_alias(self.alias)
            if name is not None and doc_ids:
                self.store.delete(name, list(doc_ids))

    def reindex(
        self,
        documents: Iterable[Document],
        *,
        batch_size: int = 128,
        progress: Progress | None = None,
        total: int | None = None,
        fresh: bool = False,
    ) -> str:
        """Rebuild into a new collection, switch the alias, drop the old one; returns the new name.

        The new collection starts as a copy of the live one when the store can copy it (the embedded
        store can) and the live one is laid out as a new one would be: then only the documents whose
        content changed are encoded and written, the ones missing from ``documents`` are removed, and
        the HNSW graph of the others is kept, so an unchanged catalogue is rebuilt in seconds. With
        ``fresh``, or after a change of quantization or of the library's layout, it starts empty and
        everything is written and indexed again. If the build fails, the new collection is dropped and
        the live one is untouched.
        """
        with self._writes:
            name, copied = self._begin_build(reuse=not fresh)
            try:
                seen: set[str] = set()  # the ids to keep: the copy also holds the documents deleted since
                if copied and isinstance(documents, Sequence):  # a sequence's length picks the embedding processes
                    seen.update(doc.id for doc in documents if isinstance(doc, Document))
                elif copied:
                    documents = _noting_ids(documents, seen)
                self.write_build(name, documents, batch_size=batch_size, progress=progress, total=total)
                if copied:
                    self.prune_build(name, seen)
            except BaseException:
                self.store.drop_collection(name)
                raise
            self.publish(name)
            return name

    def refresh(
        self,
        documents: Iterable[Document],
        *,
        batch_size: int = 256,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> RefreshReport:
        """Make the live collection hold exactly ``documents``, in place: only new and changed documents
        (by :meth:`content_hash`) are encoded and written, and documents missing from ``documents``
        are deleted. An unchanged catalogue costs a scroll of the ids and a hash per document, no
        embedding, no upsert and no new HNSW graph. Without a live collection this is :meth:`reindex`.

        Searches keep answering throughout (they see each batch as it lands). Do not run it while a
        :meth:`reindex` of the same index publishes: that drops the collection it writes into.
        """
        live = self.store.get_alias(self.alias)
        if live is None:
            self.reindex(documents, batch_size=batch_size, progress=progress, total=total)
            return RefreshReport(written=self.count(), unchanged=0, deleted=0, rebuilt=True)
        stored = self.store.content_hashes(live)
        seen: set[str] = set()
        written = unchanged = 0
        for batch in _batches(documents, batch_size):
            for document in batch:
                check_document(document)
            changed = self._changed(batch, stored)
            seen.update(doc.id for doc in batch)
            if changed:
                # Many changes in all (a new model, a changed setting) embed in the processes.
                pool = self.embedding_pool() if written + len(changed) >= POOL_MIN_TEXTS else None
                with _Encoding(self, changed, pool) as encoding:
                    points = encoding.points()
                self._store_points(lambda: live, points)
            written += len(changed)
            unchanged += len(batch) - len(changed)
            if progress is not None:
                progress(written + unchanged, total)
        stale = [doc_id for doc_id in stored if doc_id not in seen]
        if stale:
            with self._writes:
                self.store.delete(live, stale)
        return RefreshReport(written=written, unchanged=unchanged, deleted=len(stale))

    # -- rebuilding in steps -------------------------------------------------

    def begin_build(self, *, reuse: bool = False) -> str:
        """Create a collection for a rebuild and return its name; searches keep the live one.

        It is empty, or with ``reuse`` a copy of the live collection when the store can copy it and the
        live one is laid out as a new one would be (see :meth:`reindex`). :meth:`write_build` writes only
        what a build does not already hold, so then call :meth:`prune_build` before :meth:`publish`.
        """
        return self._begin_build(reuse=reuse)[0]

    def _begin_build(self, *, reuse: bool) -> tuple[str, bool]:
        """:meth:`begin_build`, and whether the new collection is a copy of the live one."""
        with self._writes:
            live = self.store.get_alias(self.alias) if reuse else None
            if live is None:
                return self._new_collection(), False
            name = self._collection_name()
            return name, self.store.create_collection_from(live, name, self.embedder.dim)

    def write_build(
        self,
        collection: str,
        documents: Iterable[Document],
        *,
        batch_size: int = 128,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> int:
        """Upsert into a build the documents it does not hold as they are (by :meth:`content_hash`: a chunk
        written twice, or a document a copied build holds unchanged, is written once); returns how many
        were written."""
        self._check_build(collection)

        def changed(batch: list[Document]) -> list[Document]:
            held = self.store.content_hashes_of(collection, [doc.id for doc in batch])
            return self._changed(batch, held) if held else batch

        return self._write(lambda: collection, documents, batch_size, progress, total, changed)

    def prune_build(self, collection: str, keep: Iterable[str]) -> int:
        """Remove from a build every document whose id is not in ``keep`` (a build copied from the live
        collection holds the documents deleted since); returns how many were removed."""
        self._check_build(collection)
        keep = set(keep)
        with self._writes:
            stale = [doc_id for doc_id in self.store.content_hashes(collection) if doc_id not in keep]
            if stale:
                self.store.delete(collection, stale)
            return len(stale)

    def delete_build(self, collection: str, doc_ids: Sequence[str]) -> None:
        """Remove documents from a build (an edit that deleted a product while the build runs)."""
        if isinstance(doc_ids, str):
            raise InvalidInputError("delete_build() takes a list of document ids, not one string")
        self._check_build(collection)
        with self._writes:
            if doc_ids:
                self.store.delete(collection, list(doc_ids))

    def publish(self, collection: str) -> str | None:
        """Make a finished build the live collection; drops and returns the previous one (or ``None``)."""
        self._check_build(collection)
        with self._writes:
            self.store.optimize(collection)
            old = self.store.get_alias(self.alias)
            self.store.set_alias(self.alias, collection)
            if old is not None and old != collection:
                self.store.drop_collection(old)
                return old
            return None

    def builds(self) -> list[str]:
        """Collections of this index (tenant, kind and model) that no alias points at: builds in progress
        or abandoned ones."""
        live = self.store.get_alias(self.alias)
        pattern = re.compile(re.escape(self.alias) + r"_\d+_[0-9a-f]{6}")
        return [name for name in self.store.list_collections() if pattern.fullmatch(name) and name != live]

    def gc(self, keep: Iterable[str] = ()) -> list[str]:
        """Drop this index's collections that no alias points at, except ``keep``; returns their names.

        Run it when no build is in progress, or name the running ones in ``keep``.
        """
        keep = set(keep)
        with self._writes:
            dropped = [name for name in self.builds() if name not in keep]
            for name in dropped:
                self.store.drop_collection(name)
            return dropped

    def _check_build(self, collection: str) -> None:
        if not isinstance(collection, str) or not collection.startswith(self.alias + "_"):
            raise InvalidInputError(f"{collection!r} is not a collection of this index ({self.alias})")
        if not self.store.collection_exists(collection):
            raise StoreError(f"the build collection {collection!r} does not exist (dropped or never created)")

    def _changed(self, batch: Sequence[Document], held: Mapping[str, str]) -> list[Document]:
        """The checked documents of ``batch`` whose :meth:`content_hash` is not the one ``held`` has for them."""
        changed = []
        for doc in batch:
            step_aside()  # hashing is a build's Python work too
            if held.get(doc.id) != self.content_hash(doc):
                changed.append(doc)
        return changed

    def _store_points(self, target: Callable[[], str], points: Sequence[Point]) -> None:
        """Upsert ``points`` into the collection ``target()`` names, in the store's slices, stepping aside for
        searches between them outside the write lock: an edit never waits for a build that steps aside."""
        size = self.store.upsert_slice or len(points)
        for start in range(0, len(points), size):
            step_aside()
            with self._writes:
                self.store.upsert(target(), points[start : start + size])

    def _write(
        self,
        target: Callable[[], str],
        documents: Iterable[Document],
        batch_size: int,
        progress: Progress | None,
        total: int | None,
        select: Callable[[list[Document]], list[Document]] | None = None,
    ) -> int:
        """Encode each batch (what ``select`` keeps of it) outside the write lock (embedding is the slow
        part: an edit must not wait for a rebuild chunk's embedding), then store it under the lock, in the
        collection ``target()`` names at that moment (a publish may have switched the alias meanwhile).

        Pipelined: the next batch's embedding starts before this one is stored, so the embedders are
        not idle while this thread computes sparse vectors and upserts. A write of at least
        :data:`~odoo_search_lib.embeddings.parallel.POOL_MIN_TEXTS` documents (known from a sequence's
        length, or counted as an iterable goes) embeds in the process pool, when the index uses one."""
        known = len(documents) if isinstance(documents, Sequence) else 0
        seen = selected = written = 0
        pending: tuple[_Encoding, int] | None = None  # a batch being encoded, and the documents seen up to it

        def store(encoding: _Encoding, upto: int) -> None:
            nonlocal written
            points = encoding.points()
            self._store_points(target, points)
            written += len(points)
            if progress is not None:
                progress(upto, total)

        try:
            for batch in _batches(documents, batch_size):
                seen += len(batch)
                try:
                    whole = True
                    if select is not None:
                        for document in batch:
                            check_document(document)
                        kept = select(batch)
                        whole, batch = len(kept) == len(batch), kept
                    selected += len(batch)
                    # the processes for a big write; of a filtered one, for what is left of it
                    many = max(known, seen) if whole else selected
                    pool = self.embedding_pool() if many >= POOL_MIN_TEXTS else None
                    started = _Encoding(self, batch, pool) if batch else None
                except BaseException:
                    if pending is not None:  # the batches before a bad document are written, as without the pipeline
                        store(*pending)
                    raise
                if started is None:  # nothing to write: done once the batch before it is
                    if pending is not None:
                        pending = (pending[0], seen)
                    elif progress is not None:
                        progress(seen, total)
                    continue
                try:
                    if pending is not None:
                        store(*pending)
                except BaseException:
                    started.close()
                    raise
                pending = (started, seen)
            if pending is not None:
                store(*pending)
        finally:
            if pending is not None:
                pending[0].close()
        return written

    # -- synonyms ----------------------------------------------------------

    def set_synonyms(self, sets: Iterable[SynonymSet | Mapping[str, object]]) -> None:
        """Replace this tenant's own synonym sets (the built-in list stays as ``synonyms.builtin`` says).

        Query time only: the next search uses them, nothing is reindexed. Bad sets raise
        :class:`ConfigError` (with a ``code``) and leave the current ones in place.
        """
        sets = parse_sets(sets)
        synonyms = Synonyms.build(sets, self.settings.language, builtin=self.settings.synonyms.builtin)
        self.searcher.synonyms = synonyms if synonyms else None
        # a word of a synonym set is a word of the language: typo correction never rewrites it
        self.searcher.set_known_words(synonyms.words() if synonyms else ())
        self.synonym_sets = sets

    # -- reading -----------------------------------------------------------

    def count(self, filters: Filters | None = None) -> int:
        name = self.store.get_alias(self.alias)
        return 0 if name is None else self.store.count(name, filters)

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        method: str = "hybrid",
        filters: Filters | None = None,
        fusion: str | None = None,
        min_confidence: float | None = None,
    ) -> SearchResult:
        """Search the live index; ``min_confidence`` (0..1, default ``search.min_confidence``) drops weaker hits."""
        if filters is not None and not isinstance(filters, Filters):
            filters = parse_filters(filters)  # a mapping from an API or a form
        options = {
            "limit": limit,
            "method": method,
            "filters": filters,
            "fusion": fusion,
            "min_confidence": min_confidence,
        }
        try:
            return self.searcher.search(query, **options)
        except StoreError as exc:
            if isinstance(exc, StoreUnavailableError):
                raise
            # A missing alias means nothing is indexed yet; a reindex may also have switched the
            # alias and dropped the collection this search had resolved: search once more.
            self.collection()  # raises IndexNotBuiltError
            return self.searcher.search(query, **options)

    def close(self) -> None:
        self.cache.close()
        if self.vector_cache is not None:
            self.vector_cache.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Encoding:
    """The points of ``documents`` in the making: their dense vectors are being embedded (or read from the
    cache) from construction on; :meth:`points` adds the sparse vectors on this thread and waits for them."""

    def __init__(self, index: SearchIndex, documents: Sequence[Document], pool: EmbedderPool | None) -> None:
        for document in documents:
            check_document(document)
        self._index = index
        self._documents = documents
        self._texts = [index.dense_text(doc) for doc in documents]
        self._dense = CachedEmbedding(
            index.embedder,
            self._texts,
            cache=index.vector_cache,
            tenant=index.settings.tenant,
            workers=index.embed_workers,
            nice=index.settings.embedder.worker_nice,
            pool=pool,
        )

    def points(self) -> list[Point]:
        try:
            # on this thread, while the workers embed
            points = self._index._sparse_points(self._documents, self._texts)
            vectors = self._dense.result()
        finally:
            self._dense.close()
        return [
            Point(point.doc_id, vector, point.bm25, point.chars, point.payload)
            for point, vector in zip(points, vectors, strict=True)
        ]

    def close(self) -> None:
        self._dense.close()

    def __enter__(self) -> _Encoding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _noting_ids(documents: Iterable[Document], seen: set[str]) -> Iterator[Document]:
    """``documents``, adding each id to ``seen`` as it goes."""
    for document in documents:
        if isinstance(document, Document):  # anything else fails the build's own check
            seen.add(document.id)
        yield document


def _batches(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
