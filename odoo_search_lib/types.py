"""Value types shared by every module: documents in, hits out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

__all__ = ["AttributeValue", "Document", "Filters", "Hit", "JSONValue", "RefreshReport", "SearchResult", "Understood"]

#: A JSON value: what ``Document.extra`` holds and what the store's payloads are made of.
JSONValue = Union[str, int, float, bool, None, list["JSONValue"], dict[str, "JSONValue"]]  # noqa: UP007 - recursive alias

#: An attribute's value: one text, or several (a template's sizes ``("38", "39", "40")``).
AttributeValue = str | tuple[str, ...]

CATEGORY_SEPARATOR = " > "


@dataclass(frozen=True)
class Document:
    """One indexable record: a product template or a business rule.

    ``id`` is the caller's identifier (``"product.template,42"``, a SKU...);
    the store derives its own point id from it. ``category`` is a path such as
    ``"Roupas > Camisetas"``. An attribute holds one text or a tuple of texts (every size of a
    template: ``{"Tamanho": ("38", "39", "40")}``). ``extra`` is copied into the stored payload as is
    (JSON-serialisable values only) for callers that need more fields back.
    """

    id: str
    name: str
    description: str = ""
    category: str = ""
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    price: float | None = None
    currency: str = ""
    in_stock: bool = True
    published: bool = True
    tags: tuple[str, ...] = ()
    company_id: int | None = None
    kind: str = "product"
    extra: Mapping[str, JSONValue] = field(default_factory=dict)
    #: The one website that sells the product (Odoo's ``website_id``); ``None``: every website.
    website_id: int | None = None

    @property
    def category_path(self) -> tuple[str, ...]:
        """The category split into its levels, outermost first."""
        return tuple(part.strip() for part in self.category.split(">") if part.strip())


@dataclass(frozen=True)
class Filters:
    """Restrictions applied inside every retrieval stage of a search: the one filter type of the library.

    Every field left ``None`` does not restrict. ``company_ids`` keeps documents of those companies and
    documents shared by all companies (no company). ``category`` matches that category and every
    category below it. ``price_min``/``price_max`` bound the price (documents without a price are
    left out by either bound). User input (a JSON object, CLI ``key=value`` strings) becomes a
    ``Filters`` through :func:`odoo_search_lib.search.parse_filters`, which refuses unknown keys and
    values of the wrong type with :class:`QueryError`. ``valid_at`` (seconds since the epoch) keeps business
    rules valid at that moment; ``rule_types`` keeps business rules of those types. ``website_id`` keeps
    documents of that website and documents of every website (no website). ``attributes`` holds
    ``(name, values)`` pairs: a document matches when, for every pair, its attribute of that name has
    at least one of the values (names and values compared without case and accents).
    """

    company_ids: tuple[int, ...] | None = None
    category: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool | None = None
    published: bool | None = None
    kind: str | None = None
    valid_at: float | None = None
    rule_types: tuple[str, ...] | None = None
    website_id: int | None = None
    attributes: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in self.__dict__.values())


@dataclass(frozen=True)
class Hit:
    """One search result: the caller's id, the fused score, per-signal scores.

    ``score`` only orders hits. ``confidence`` (0..1) says how likely the hit is
    what the query asked for, comparable across queries (see
    :mod:`odoo_search_lib.confidence`); searches fill it in, fusion alone leaves 0.
    """

    id: str
    score: float
    scores: Mapping[str, float]
    payload: Mapping[str, JSONValue]
    confidence: float = 0.0

    @property
    def name(self) -> str:
        return str(self.payload.get("name", ""))


@dataclass(frozen=True)
class RefreshReport:
    """What :meth:`odoo_search_lib.SearchIndex.refresh` did: documents ``written`` (new or changed),
    ``unchanged`` (left in place), ``deleted`` (in the index, not in the catalogue), and whether it
    ``rebuilt`` a new collection instead (there was no live one)."""

    written: int
    unchanged: int
    deleted: int
    rebuilt: bool = False


@dataclass(frozen=True)
class Understood:
    """One constraint read from a query.

    ``kind`` is one of :data:`odoo_search_lib.understand.KINDS`; ``value`` the amount (``price_max``,
    ``price_min``), ``{"min": .., "max": ..}`` (``price_range``), the voltage (``"110V"``, ``"220V"``,
    ``"bivolt"``), the size (``"G"``, ``"42"``) or
    ``True`` (``cheap``, ``in_stock``); ``text`` the words it came from; ``applied`` how the search used it:
    ``"filter"``, ``"boost"``, or ``"relaxed"`` (a filter that left no result, or contradicted the caller's
    filters, and was dropped).
    """

    kind: str
    value: JSONValue
    text: str
    applied: str

    def as_dict(self) -> dict[str, JSONValue]:
        return {"kind": self.kind, "value": self.value, "text": self.text, "applied": self.applied}


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query, best first, with the time the search took."""

    query: str
    method: str
    hits: tuple[Hit, ...]
    took_ms: float
    #: The query with misspelt words corrected, when a correction was used for the dense and BM25 signals.
    corrected_query: str | None = None
    #: The constraints read from the query (budgets, stock, voltage, size, "cheap") and how each was used.
    understood: tuple[Understood, ...] = ()

    def ids(self) -> list[str]:
        return [hit.id for hit in self.hits]
