# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Process-wide cache of open search indexes, one entry per database.

Opening an index loads the embedding model (about a second) and, with the
embedded store, takes an exclusive lock on the store directory. Both must
happen once per process and database, not once per request, so the Odoo
side keeps them here, keyed by ``(dbname, settings hash)``:

- a database whose settings changed gets its old store closed (releasing the
  embedded store's lock) before the new one is opened;
- embedders are shared between databases that use the same model;
- every access goes through one lock: Odoo serves requests and runs crons in
  threads of the same process.

This module is plain Python: it never touches the ORM.
"""

import contextlib
import dataclasses
import hashlib
import json
import logging
import tempfile
import threading
import uuid
from dataclasses import asdict

from odoo_search_lib import Settings
from odoo_search_lib.embeddings import make_embedder
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.store import open_store

_logger = logging.getLogger(__name__)

_lock = threading.RLock()
# dbname -> _Entry
_entries = {}
# embedder settings hash -> Embedder
_embedders = {}


class _Entry:
    __slots__ = ("key", "store", "indexes", "settings")

    def __init__(self, key, store, settings):
        self.key = key
        self.store = store
        self.settings = settings
        self.indexes = {}

    def close(self):
        try:
            self.store.close()
        except Exception:  # closing must never hide the caller's own error
            _logger.exception("Could not close the search store")


def settings_key(settings):
    """A stable hash of every setting, secrets included (never logged or shown)."""
    data = asdict(settings)
    raw = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _embedder(settings):
    key = hashlib.sha256(json.dumps(asdict(settings.embedder), sort_keys=True).encode("utf-8")).hexdigest()
    with _lock:
        embedder = _embedders.get(key)
        if embedder is None:
            embedder = _embedders[key] = make_embedder(settings.embedder)
        return embedder


def probe(settings, documents):
    """Index ``documents`` into a throw-away collection built with ``settings``; returns how many it holds.

    Tests settings that are not saved (the settings form's Test button): the open indexes of
    every database are left alone. The embedded store gets a temporary directory (the
    configured one may be locked by the open index); a server store gets a collection of a
    throw-away tenant, dropped afterwards. Raises the library's errors untouched.
    """
    if not isinstance(settings, Settings):
        raise TypeError("settings must be an odoo_search_lib.Settings")
    with contextlib.ExitStack() as stack:
        if settings.store.backend == "edge":
            path = stack.enter_context(tempfile.TemporaryDirectory(prefix="semantic-search-probe-"))
            settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store, path=path))
        else:
            tenant = f"{settings.tenant[:40]}-probe-{uuid.uuid4().hex[:12]}"
            settings = dataclasses.replace(settings, tenant=tenant)
        store = open_store(settings.store)
        stack.callback(store.close)
        index = SearchIndex(settings, embedder=_embedder(settings), store=store)
        collection = index.begin_build()
        stack.callback(store.drop_collection, collection)
        index.write_build(collection, documents)
        return store.count(collection)


def get_index(dbname, settings, kind="product"):
    """The open :class:`SearchIndex` of ``dbname`` for ``settings`` and ``kind``.

    Raises the library's errors (``ConfigError``, ``StoreLockedError``,
    ``EmbeddingError``...) untouched: the caller maps them.
    """
    if not isinstance(settings, Settings):
        raise TypeError("settings must be an odoo_search_lib.Settings")
    key = settings_key(settings)
    with _lock:
        entry = _entries.get(dbname)
        if entry is not None and entry.key != key:
            _logger.info("Search settings of database %s changed: reopening its search store", dbname)
            del _entries[dbname]
            entry.close()
            entry = None
        if entry is None:
            store = open_store(settings.store)
            entry = _entries[dbname] = _Entry(key, store, settings)
        index = entry.indexes.get(kind)
        if index is None:
            try:
                index = SearchIndex(settings, kind=kind, embedder=_embedder(settings), store=entry.store)
            except BaseException:
                if not entry.indexes:
                    del _entries[dbname]
                    entry.close()
                raise
            entry.indexes[kind] = index
        return index


def close(dbname=None):
    """Close the store of ``dbname`` (every database when ``None``)."""
    with _lock:
        names = list(_entries) if dbname is None else [dbname]
        for name in names:
            entry = _entries.pop(name, None)
            if entry is not None:
                entry.close()


def is_open(dbname):
    with _lock:
        return dbname in _entries
