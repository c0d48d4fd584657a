"""The assistant's ports over the library itself: a :class:`SearchIndex` and the import files.

Used by the CLI and the evaluation. The "live" lookup reads the product file's
``price``, ``currency`` and ``in_stock`` (in Odoo the addon implements
:class:`~.ports.CatalogPort` over the ORM instead). Variants are the products
whose names differ only by their voltage, size or colour values within one
category, which is how the import format (one line per sellable product)
carries them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence

from .. import rules as library_rules
from ..confidence import match_confidence, term_coverage
from ..config import Settings
from ..index import SearchIndex
from ..text import Analyzer, fold, tokenize
from ..types import AttributeValue, Document
from .ports import ProductInfo, ProductMatch, Rule, RuleMatch, Variant

__all__ = ["FileShop", "IndexCatalog", "IndexRules", "VARIANT_KEYS", "load_rules", "port_rule"]

#: Attribute names (folded) whose values tell variants of one product apart, with their kind.
VARIANT_KEYS = {
    "voltagem": "voltage",
    "tensao": "voltage",
    "voltage": "voltage",
    "tamanho": "size",
    "size": "size",
    "numeracao": "size",
    "cor": "colour",
    "color": "colour",
    "colour": "colour",
}
TOPICS = ("hours", "delivery", "payment", "returns", "warranty", "pickup", "promotion", "coupon", "faq")
#: Topic names a rules file may use (folded), mapped onto :data:`TOPICS`.
TOPIC_ALIASES = {
    **{topic: topic for topic in TOPICS},
    "horario": "hours",
    "horarios": "hours",
    "funcionamento": "hours",
    "store_hours": "hours",
    "opening_hours": "hours",
    "entrega": "delivery",
    "frete": "delivery",
    "shipping": "delivery",
    "envio": "delivery",
    "pagamento": "payment",
    "payments": "payment",
    "troca": "returns",
    "trocas": "returns",
    "devolucao": "returns",
    "devolucoes": "returns",
    "return": "returns",
    "garantia": "warranty",
    "retirada": "pickup",
    "retirar": "pickup",
    "promocao": "promotion",
    "promocoes": "promotion",
    "promo": "promotion",
    "promotions": "promotion",
    "cupom": "coupon",
    "cupons": "coupon",
    "coupons": "coupon",
    "perguntas": "faq",
    "duvidas": "faq",
    "pergunta_frequente": "faq",
}


def variant_options(attributes: Mapping[str, AttributeValue]) -> dict[str, str]:
    """The attributes that distinguish variants, keyed by kind (``voltage``, ``size``, ``colour``).

    A list of values (every size of a template) names no one variant and is left out.
    """
    options: dict[str, str] = {}
    for key, value in attributes.items():
        kind = VARIANT_KEYS.get(fold(str(key)).strip())
        if kind and isinstance(value, str) and value.strip():
            options.setdefault(kind, str(value).strip())
    return options


class IndexCatalog:
    """:class:`~.ports.CatalogPort` over a product index and the products it was built from."""

    def __init__(self, index: SearchIndex, products: Iterable[Document]) -> None:
        self.index = index
        self._products = {doc.id: doc for doc in products if doc.kind == "product"}
        analyzer = Analyzer("pt")
        families: dict[tuple[str, ...], list[str]] = {}
        self._family_of: dict[str, tuple[str, ...]] = {}
        for doc in self._products.values():
            key = _family_key(doc, analyzer)
            families.setdefault(key, []).append(doc.id)
            self._family_of[doc.id] = key
        self._families = families

    def search(self, query: str, *, limit: int) -> list[ProductMatch]:
        result = self.index.search(query, limit=limit)
        return [ProductMatch(hit.id, hit.confidence) for hit in result.hits]

    def get(self, product_id: str) -> ProductInfo | None:
        doc = self._products.get(product_id)
        if doc is None or not doc.published:
            return None
        siblings = [self._products[i] for i in self._families.get(self._family_of[doc.id], ())]
        variants: tuple[Variant, ...] = ()
        if len(siblings) > 1:
            variants = tuple(
                Variant(s.id, s.name, s.price, s.currency or "BRL", s.in_stock, variant_options(s.attributes))
                for s in sorted(siblings, key=lambda s: s.id)
                if s.published
            )
        return ProductInfo(
            doc.id,
            doc.name,
            doc.price,
            doc.currency or "BRL",
            doc.in_stock,
            doc.category,
            {key: value if isinstance(value, str) else ", ".join(value) for key, value in doc.attributes.items()},
            variants,
        )


def _family_key(doc: Document, analyzer: Analyzer) -> tuple[str, ...]:
    """The product's name without its variant values (stemmed, so "Preta" drops with "Preto"), plus its category."""
    dropped: set[str] = set()
    for value in variant_options(doc.attributes).values():
        dropped.update(analyzer.stem(token) for token in tokenize(value))
    stems = [analyzer.stem(token) for token in tokenize(doc.name)]
    return (fold(doc.category), *(stem for stem in stems if stem not in dropped))


# --------------------------------------------------------------------------- rules


def port_rule(rule: library_rules.Rule) -> Rule:
    """The assistant's view of a business rule (:mod:`odoo_search_lib.rules`): dates, topic, coupon.

    A payment rule about Pix gets ``payment="pix"`` and, as its ``percent``, the first
    "N% de desconto" of its text, so the assistant can state a product's Pix price.
    """
    topic = TOPIC_ALIASES.get(fold(rule.type).replace(" ", "_"), "faq")
    payment = "pix" if topic == "payment" and "pix" in fold(rule.title) else ""
    found = _PERCENT_OFF.search(fold(rule.content)) if payment else None
    return Rule(
        id=rule.id,
        title=rule.title,
        text=rule.content,
        topic=topic,
        valid_from=rule.valid_from.date() if rule.valid_from else None,
        valid_until=rule.valid_to.date() if rule.valid_to else None,
        code=rule.coupon_code.upper(),
        percent=float(found.group(1).replace(",", ".")) if found else None,
        payment=payment,
        categories=rule.categories,
        products=rule.products,
        question=rule.question,
        tags=rule.tags,
    )


_PERCENT_OFF = re.compile(r"(\d+(?:,\d+)?)\s?% de desconto")


def load_rules(path: str) -> list[library_rules.Rule]:
    """Read a rules file (:func:`odoo_search_lib.rules.load_rules`); a bad line raises with its number."""
    return library_rules.load_rules(path).rules


class IndexRules:
    """:class:`~.ports.RulesPort` over a :class:`~odoo_search_lib.rules.RuleIndex`.

    The index filters by validity; each rule is checked again here. A hit's confidence is the
    calibrated match confidence (:mod:`odoo_search_lib.confidence`) of its dense score and of the
    query terms found in the rule's title, tags and question.
    """

    def __init__(self, index: library_rules.RuleIndex, rules: Sequence[library_rules.Rule]) -> None:
        self.index = index
        self.rules = [port_rule(rule) for rule in rules]
        self._by_id = {rule.id: rule for rule in self.rules}
        self._analyzer = Analyzer(index.language)
        self._terms = {
            rule.id: set(self._analyzer.terms(" ".join([rule.title, rule.question, *rule.tags, rule.code])))
            for rule in self.rules
        }

    def search(self, query: str, *, at: dt.date, limit: int, valid_only: bool = True) -> list[RuleMatch]:
        if not self.rules:
            return []
        result = self.index.search(query, at=at, limit=max(limit, 10), include_inactive=not valid_only)
        asked = set(self._analyzer.terms(query))
        matches = []
        for hit in result.hits:
            rule = self._by_id.get(hit.id)
            if rule is None or (valid_only and not rule.valid_at(at)):
                continue
            coverage = term_coverage(asked, self._terms[rule.id])
            matches.append(RuleMatch(rule, match_confidence(hit.scores.get("dense", 0.0), coverage)))
        return matches[:limit]


class FileShop:
    """Both ports over a products file and a rules file, indexed into a temporary embedded store.

    For the CLI and the evaluation: ``with FileShop(products, rules, settings) as shop: shop.catalog``.
    """

    def __init__(self, products: Sequence[Document], rules: Sequence[library_rules.Rule], settings: Settings) -> None:
        import dataclasses
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="odoo-search-chat-")
        if settings.store.backend == "edge":
            settings = settings.replace(store=dataclasses.replace(settings.store, path=self._tmp.name))
        self.products_index = SearchIndex(settings)
        self.rules_index = library_rules.RuleIndex(
            settings, embedder=self.products_index.embedder, store=self.products_index.store
        )
        try:
            self.products_index.reindex(products)
            if rules:
                self.rules_index.reindex(rules)
        except BaseException:
            self.close()
            raise
        self.catalog = IndexCatalog(self.products_index, products)
        self.rules = IndexRules(self.rules_index, rules)

    def close(self) -> None:
        self.products_index.close()
        self._tmp.cleanup()

    def __enter__(self) -> FileShop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
