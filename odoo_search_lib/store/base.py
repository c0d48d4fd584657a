"""The ``VectorStore`` protocol and what both backends share.

A store holds collections (one per tenant, document kind and vector space) and
aliases that point at them, so a full reindex can build a new collection and
switch the alias in one step. Every collection has the same shape:

- named vectors ``dense`` (cosine), ``bm25`` and ``chars`` (sparse, IDF);
- payload indexes on the filter fields of :data:`PAYLOAD_SCHEMA`;
- point ids derived from the caller's document id (:func:`point_id`), the
  document id itself kept in the payload as ``doc_id``.

Flags are stored as 0/1 integers: the embedded engine's ``MatchValue(True)``
matches nothing on boolean payloads, and integers behave the same on every
backend.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ..config import QUANTIZATIONS
from ..exceptions import ConfigError
from ..sparse import SparseVector
from ..text import fold
from ..types import Filters, JSONValue

__all__ = [
    "ATTRIBUTE_FIELD",
    "OVERSAMPLING",
    "PAYLOAD_SCHEMA",
    "QUANTILE",
    "SCROLL_PAGE",
    "Condition",
    "Point",
    "ScoredPoint",
    "SignalQuery",
    "StoreBase",
    "VectorStore",
    "attribute_key",
    "check_quantization",
    "filter_conditions",
    "point_id",
]

_ID_NAMESPACE = uuid.UUID("6f1c8d4e-2b7a-5e39-9c0d-4f8a1b2c3d4e")

#: Dense vectors are also stored as int8 (scalar quantization, ``store.quantization``), and searched
#: as such with ``OVERSAMPLING`` times the candidates, re-scored on the original vectors: the scores are
#: exact cosines. On 30,000 synthetic products (``bench/quantization.py``) the top 10 kept 99.7 % of the
#: exact top 10 (99.5 % without quantization; 99.2-100 % under filters either way), the HNSW build took
#: 40 % less time (half the CPU) and dense searches 45 % less. ``QUANTILE`` of the values sets the int8 range.
QUANTILE = 0.99
OVERSAMPLING = 2.0


def check_quantization(quantization: object) -> None:
    """A store's ``quantization`` argument: ``"int8"`` or ``"none"`` (``ConfigError`` otherwise)."""
    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"store.quantization must be one of {', '.join(QUANTIZATIONS)} (got {quantization!r})")


#: The payload field attribute filters match: one ``"name=value"`` keyword per value (:func:`attribute_key`).
ATTRIBUTE_FIELD = "attr"

#: Payload fields with an index, and their type.
PAYLOAD_SCHEMA: Mapping[str, Literal["keyword", "integer", "float"]] = {
    "doc_id": "keyword",
    "kind": "keyword",
    "categories": "keyword",
    "company_id": "integer",
    "website_id": "integer",
    "in_stock": "integer",
    "published": "integer",
    "price": "float",
    ATTRIBUTE_FIELD: "keyword",
    # Business rules (odoo_search_lib.rules): their type and validity, seconds since the epoch.
    "rule_type": "keyword",
    "valid_from_ts": "float",
    "valid_to_ts": "float",
}

SIGNALS = ("dense", "bm25", "chars")
#: Points per page when a store scrolls a whole collection (document ids and hashes only).
SCROLL_PAGE = 4096


def point_id(doc_id: str) -> str:
    """The store's UUID for a caller's document id (stable across runs and backends)."""
    return str(uuid.uuid5(_ID_NAMESPACE, doc_id))


@dataclass(frozen=True)
class Point:
    """A document ready for the store: its id, its three vectors and its payload."""

    doc_id: str
    dense: np.ndarray
    bm25: SparseVector
    chars: SparseVector
    payload: Mapping[str, JSONValue]


@dataclass(frozen=True)
class SignalQuery:
    """One retrieval stage: nearest neighbours of ``vector`` in the named vector ``using``.

    Without ``with_payload`` only point ids and scores come back: reading payloads costs more
    than the vector search itself, so the searcher fetches them for the final hits only.
    A stage with ``filtered`` false ignores the batch's filters and searches the whole
    collection (typo correction asks whether any document of the tenant has a word).
    """

    using: Literal["dense", "bm25", "chars"]
    vector: np.ndarray | SparseVector
    limit: int
    with_payload: bool = True
    filtered: bool = True


@dataclass(frozen=True)
class ScoredPoint:
    """A retrieved point: the store's id, its score and (when asked for) its payload."""

    point_id: str
    score: float
    payload: Mapping[str, JSONValue]

    @property
    def doc_id(self) -> str:
        """The caller's document id (needs the payload)."""
        return str(self.payload["doc_id"])


@dataclass(frozen=True)
class Condition:
    """A backend-neutral filter condition: ``key`` matches ``value`` (one of), or lies in a range."""

    key: str
    any_of: tuple[int | str, ...] | None = None
    gte: float | None = None
    lte: float | None = None


def filter_conditions(filters: Filters | None) -> list[Condition]:
    """Translate :class:`Filters` into conditions every backend can express."""
    if filters is None:
        return []
    conditions: list[Condition] = []
    if filters.kind is not None:
        conditions.append(Condition("kind", any_of=(filters.kind,)))
    if filters.company_ids is not None:
        # Documents without a company (stored as 0) are shared by all companies.
        conditions.append(Condition("company_id", any_of=tuple(sorted({0, *filters.company_ids}))))
    if filters.website_id is not None:
        # Documents sold on every website (stored as 0) are kept for any website.
        conditions.append(Condition("website_id", any_of=tuple(sorted({0, filters.website_id}))))
    if filters.category:
        conditions.append(Condition("categories", any_of=(category_key(filters.category),)))
    if filters.price_min is not None or filters.price_max is not None:
        conditions.append(Condition("price", gte=filters.price_min, lte=filters.price_max))
    if filters.in_stock is not None:
        conditions.append(Condition("in_stock", any_of=(int(filters.in_stock),)))
    if filters.published is not None:
        conditions.append(Condition("published", any_of=(int(filters.published),)))
    for name, values in filters.attributes or ():
        # Within an attribute any value matches; several attributes must all match.
        conditions.append(Condition(ATTRIBUTE_FIELD, any_of=tuple(attribute_key(name, value) for value in values)))
    if filters.rule_types is not None:
        conditions.append(Condition("rule_type", any_of=tuple(filters.rule_types)))
    if filters.valid_at is not None:
        # Open ends are stored as sentinels far in the past and future, so two ranges cover every rule.
        conditions.append(Condition("valid_from_ts", lte=filters.valid_at))
        conditions.append(Condition("valid_to_ts", gte=filters.valid_at))
    return conditions


def category_key(path: str) -> str:
    """Canonical form of a category path for exact matching (case, accent and spacing insensitive)."""
    return " > ".join(" ".join(fold(part).split()) for part in path.split(">") if part.strip())


def attribute_key(name: str, value: str) -> str:
    """What attribute filters compare: ``"tamanho=38"`` for ``("Tamanho", "38")`` (case, accent and
    spacing insensitive). The store keeps one per value of every attribute of a document. An ``=``
    in the name is escaped (``\\=``, and ``\\`` as ``\\\\``), so ``("a=b", "c")`` and ``("a", "b=c")`` differ."""
    folded = " ".join(fold(name).split()).replace("\\", "\\\\").replace("=", "\\=")
    return f"{folded}={' '.join(fold(value).split())}"


class StoreBase:
    """What both backends derive from the protocol's primitives."""

    #: Whether data calls accept an alias in place of a collection name (Qdrant servers resolve
    #: aliases atomically themselves, which saves a round trip per search).
    resolves_aliases = False
    #: Points per upsert call that writers should not exceed (0: any number), see the embedded store.
    upsert_slice = 0

    def payloads(
        self, collection: str, point_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        raise NotImplementedError

    def retrieve(
        self, collection: str, doc_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        """Payloads of the given documents that exist (only ``fields`` of them, if given), keyed by document id."""
        wanted = None if fields is None else ["doc_id", *fields]
        found = self.payloads(collection, [point_id(doc_id) for doc_id in doc_ids], wanted)
        return {payload["doc_id"]: payload for payload in found.values()}

    def create_collection_from(self, source: str, name: str, dense_dim: int) -> bool:
        """Create ``name`` as a copy of ``source`` and return ``True`` when the store can copy a collection and
        ``source`` is laid out as :meth:`create_collection` would lay ``name`` out; else create it empty and
        return ``False``. This backend cannot copy."""
        self.create_collection(name, dense_dim)
        return False

    def content_hashes_of(self, collection: str, doc_ids: Sequence[str]) -> dict[str, str]:
        """The ``content_hash`` payload ("" when it has none) of those of ``doc_ids`` that ``collection`` holds."""
        return {
            doc_id: digest if isinstance(digest := payload.get("content_hash"), str) else ""
            for doc_id, payload in self.retrieve(collection, doc_ids, ["content_hash"]).items()
        }

    def content_hashes(self, collection: str) -> dict[str, str]:
        """Every document of ``collection`` with its ``content_hash`` payload ("" when it has none)."""
        found: dict[str, str] = {}
        for page in self._scroll_fields(collection, ["doc_id", "content_hash"]):
            for payload in page:
                doc_id = payload.get("doc_id")
                if isinstance(doc_id, str):
                    digest = payload.get("content_hash")
                    found[doc_id] = digest if isinstance(digest, str) else ""
        return found

    def _scroll_fields(self, collection: str, fields: list[str]) -> Iterator[list[Mapping[str, JSONValue]]]:
        """Pages of the given payload fields of every point of ``collection``."""
        raise NotImplementedError


@runtime_checkable
class VectorStore(Protocol):
    """What the searcher and the indexer need from a vector database."""

    backend: str
    resolves_aliases: bool
    #: Points per :meth:`upsert` call a writer should not exceed (0: any number): the embedded engine keeps
    #: the GIL through an update, and a search of the process waits for it.
    upsert_slice: int

    def create_collection(self, name: str, dense_dim: int) -> None:
        """Create an empty collection with the three named vectors and the payload indexes."""
        ...

    def create_collection_from(self, source: str, name: str, dense_dim: int) -> bool:
        """Create ``name`` as a copy of ``source`` (``True``) when it can, else empty (``False``)."""
        ...

    def drop_collection(self, name: str) -> None:
        """Delete a collection and its data; unknown names are ignored."""
        ...

    def collection_exists(self, name: str) -> bool: ...

    def list_collections(self) -> list[str]: ...

    def get_alias(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or ``None``."""
        ...

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` atomically: readers see the old or the new one."""
        ...

    def upsert(self, collection: str, points: Sequence[Point]) -> None: ...

    def delete(self, collection: str, doc_ids: Sequence[str]) -> None: ...

    def count(self, collection: str, filters: Filters | None = None) -> int: ...

    def retrieve(
        self, collection: str, doc_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        """Payloads of the given documents that exist (only ``fields`` of them, if given), keyed by document id."""
        ...

    def content_hashes_of(self, collection: str, doc_ids: Sequence[str]) -> dict[str, str]:
        """The ``content_hash`` of those of ``doc_ids`` that ``collection`` holds."""
        ...

    def content_hashes(self, collection: str) -> dict[str, str]:
        """Every document of ``collection`` with its ``content_hash`` payload ("" when it has none)."""
        ...

    def query(
        self, collection: str, queries: Sequence[SignalQuery], filters: Filters | None = None
    ) -> list[list[ScoredPoint]]:
        """Run the retrieval stages as one batch, ``filters`` inside each filtered stage; each list is best first."""
        ...

    def payloads(
        self, collection: str, point_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        """Payloads of the given points that exist (only ``fields`` of them, if given), keyed by point id."""
        ...

    def optimize(self, collection: str) -> None:
        """Finish background work (index building) after a bulk load; may be a no-op."""
        ...

    def close(self) -> None: ...
