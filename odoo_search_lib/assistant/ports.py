"""What the assistant needs from the shop, as two ports, and the records they return.

The assistant never reads a price or a stock level from an index payload: it
finds products through :class:`CatalogPort.search` and then reads each one it
mentions through :class:`CatalogPort.get`, at answer time. In Odoo the addon
implements the ports over the ORM; :mod:`odoo_search_lib.assistant.adapters`
implements them over a :class:`~odoo_search_lib.SearchIndex` and the JSON Lines
files, for the CLI and the evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "CatalogPort",
    "ProductInfo",
    "ProductMatch",
    "Rule",
    "RuleMatch",
    "RulesPort",
    "Variant",
]


@dataclass(frozen=True)
class ProductMatch:
    """A search hit: the product's id and how likely it is what was asked (0..1, ``Hit.confidence``)."""

    id: str
    confidence: float


@dataclass(frozen=True)
class Variant:
    """One sellable variant of a product, read live: what distinguishes it (voltage, size, colour)."""

    id: str
    name: str
    price: float | None
    currency: str
    in_stock: bool
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductInfo:
    """A product as it is now: price, currency and stock read live, with its sibling variants."""

    id: str
    name: str
    price: float | None
    currency: str
    in_stock: bool
    category: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: Every variant of the product's family, this one included; empty when it has none.
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A business rule (hours, delivery, payment, returns, warranty, pickup, promotion, coupon, FAQ).

    ``valid_from``/``valid_until`` bound it (inclusive dates, ``None`` = open). Structured facts
    let the assistant combine a rule with a product: ``percent`` (a discount), ``code`` (a coupon),
    ``min_amount`` (a minimum order), ``payment`` (the payment method a discount needs, e.g.
    ``pix``), ``products``/``categories``/``excluded_categories`` (what it covers; empty =
    everything).
    """

    id: str
    title: str
    text: str
    topic: str = "faq"
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    code: str = ""
    percent: float | None = None
    min_amount: float | None = None
    payment: str = ""
    categories: tuple[str, ...] = ()
    excluded_categories: tuple[str, ...] = ()
    #: Product ids the rule is limited to (a promotion on listed items); empty = by category.
    products: tuple[str, ...] = ()
    #: The customer question a FAQ answers, searched with the text.
    question: str = ""
    tags: tuple[str, ...] = ()

    def valid_at(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def covers(self, product_id: str, category: str) -> bool:
        """Whether the product ``product_id`` of ``category`` (a path such as ``"Casa > Cafeteiras"``) is covered."""

        def under(prefixes: Sequence[str]) -> bool:
            folded = category.casefold()
            return any(folded == p.casefold() or folded.startswith(p.casefold() + " >") for p in prefixes)

        if self.excluded_categories and under(self.excluded_categories):
            return False
        if self.products:
            return product_id in self.products
        return not self.categories or under(self.categories)


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    confidence: float


@runtime_checkable
class CatalogPort(Protocol):
    """Product search plus a live lookup by id."""

    def search(self, query: str, *, limit: int) -> Sequence[ProductMatch]:
        """The best matches of ``query``, best first (may be empty)."""
        ...

    def get(self, product_id: str) -> ProductInfo | None:
        """The product as it is now, or ``None`` if it no longer exists or is not sold."""
        ...


@runtime_checkable
class RulesPort(Protocol):
    """Business-rule search at a given day."""

    def search(self, query: str, *, at: dt.date, limit: int, valid_only: bool = True) -> Sequence[RuleMatch]:
        """Rules matching ``query``; with ``valid_only`` only those valid on ``at``."""
        ...
