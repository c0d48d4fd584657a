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
from typing import Any

from ..config import Settings
from ..enrich import strip_html
from ..exceptions import DocumentError
from ..index import SearchIndex
from ..text import Analyzer, fold, tokenize
from ..types import Document
from .ports import ProductInfo, ProductMatch, Rule, RuleMatch, Variant

__all__ = ["FileShop", "IndexCatalog", "IndexRules", "VARIANT_KEYS", "load_rules", "rule_document", "rule_from_dict"]

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


def variant_options(attributes: Mapping[str, str]) -> dict[str, str]:
    """The attributes that distinguish variants, keyed by kind (``voltage``, ``size``, ``colour``)."""
    options: dict[str, str] = {}
    for key, value in attributes.items():
        kind = VARIANT_KEYS.get(fold(str(key)).strip())
        if kind and str(value).strip():
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
            dict(doc.attributes),
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


def _date(value: Any, field: str, rule_id: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise DocumentError(f"rule {rule_id!r}: {field!r} must be a date YYYY-MM-DD", code="bad_field")


def _number(value: Any, field: str, rule_id: str) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise DocumentError(f"rule {rule_id!r}: {field!r} must be a number >= 0", code="bad_field")
    return float(value)


def _strings(value: Any, field: str, rule_id: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DocumentError(f"rule {rule_id!r}: {field!r} must be a list of strings", code="bad_field")
    return tuple(item.strip() for item in value if item.strip())


def rule_from_dict(data: Any) -> Rule:
    """Build a :class:`Rule` from one line of the rules file (``sample_rules.jsonl``'s format).

    ``id``, ``title`` (or ``name``) and ``content`` (or ``description``/``text``, HTML allowed) are
    required; ``type`` (or ``topic``) names the topic; ``valid_from``/``valid_to`` are ISO dates or
    date-times (the date part counts); ``coupon_code``, ``categories``, ``products`` and
    ``question`` are optional, and so are ``percent``, ``min_amount``, ``payment`` and
    ``excluded_categories`` (at the top level or under ``extra``). A payment rule about Pix
    without a ``percent`` takes the first "N% de desconto" of its text.
    """
    if not isinstance(data, Mapping):
        raise DocumentError("a rule must be a JSON object", code="not_an_object")
    extra = data.get("extra") if isinstance(data.get("extra"), Mapping) else {}
    merged = {**extra, **{k: v for k, v in data.items() if k != "extra"}}
    rule_id = str(merged.get("id") or "").strip()
    title = merged.get("title") or merged.get("name")
    text = merged.get("content") or merged.get("description") or merged.get("text") or ""
    if not rule_id or not isinstance(title, str) or not title.strip() or not isinstance(text, str):
        raise DocumentError("a rule needs an 'id', a 'title' and a 'content'", code="bad_rule")
    text = strip_html(text)
    question = merged.get("question")
    raw_topic = fold(str(merged.get("type") or merged.get("topic") or "faq")).strip()
    topic = TOPIC_ALIASES.get(raw_topic.replace(" ", "_"), "faq")
    percent = _number(merged.get("percent", merged.get("discount_percent")), "percent", rule_id)
    payment = fold(str(merged.get("payment") or merged.get("payment_method") or "")).strip()
    if topic == "payment" and "pix" in fold(title) and not payment:
        payment = "pix"
    if payment == "pix" and percent is None:
        found = _PERCENT_OFF.search(fold(text))
        percent = float(found.group(1).replace(",", ".")) if found else None
    return Rule(
        id=rule_id,
        title=title.strip(),
        text=text,
        topic=topic,
        valid_from=_date(merged.get("valid_from"), "valid_from", rule_id),
        valid_until=_date(merged.get("valid_to", merged.get("valid_until")), "valid_to", rule_id),
        code=str(merged.get("coupon_code") or merged.get("code") or "").strip().upper(),
        percent=percent,
        min_amount=_number(merged.get("min_amount"), "min_amount", rule_id),
        payment=payment,
        categories=_strings(merged.get("categories"), "categories", rule_id),
        excluded_categories=_strings(merged.get("excluded_categories"), "excluded_categories", rule_id),
        products=_strings(merged.get("products"), "products", rule_id),
        question=question.strip() if isinstance(question, str) else "",
        tags=_strings(merged.get("tags"), "tags", rule_id),
    )


_PERCENT_OFF = re.compile(r"(\d+(?:,\d+)?)\s?% de desconto")


def rule_document(rule: Rule) -> Document:
    """The searchable form of a rule: title, text, topic and coupon code."""
    return Document(
        id=rule.id,
        name=rule.title,
        description=f"{rule.question} {rule.text}".strip(),
        category=rule.topic,
        tags=(*rule.tags, rule.code) if rule.code else rule.tags,
        kind="rule",
    )


class IndexRules:
    """:class:`~.ports.RulesPort` over a rule index; validity is checked against the rules themselves."""

    def __init__(self, index: SearchIndex, rules: Sequence[Rule]) -> None:
        self.index = index
        self._rules = {rule.id: rule for rule in rules}

    def search(self, query: str, *, at: dt.date, limit: int, valid_only: bool = True) -> list[RuleMatch]:
        if not self._rules:
            return []
        result = self.index.search(query, limit=max(limit * 4, 10))
        matches = []
        for hit in result.hits:
            rule = self._rules.get(hit.id)
            if rule is not None and (not valid_only or rule.valid_at(at)):
                matches.append(RuleMatch(rule, hit.confidence))
        return matches[:limit]

    def all(self) -> list[Rule]:
        return list(self._rules.values())


def load_rules(path: str) -> list[Rule]:
    """Read a rules file (JSON Lines); a bad line raises :class:`DocumentError` with its number."""
    import json

    rules: dict[str, Rule] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                raise DocumentError("not valid JSON", line=number, code="bad_json") from None
            try:
                rule = rule_from_dict(data)
            except DocumentError as exc:
                raise DocumentError(exc.message, line=number, code=exc.code) from None
            rules[rule.id] = rule
    return list(rules.values())


class FileShop:
    """Both ports over a products file and a rules file, indexed into a temporary embedded store.

    For the CLI and the evaluation: ``with FileShop(products, rules, settings) as shop: shop.catalog``.
    """

    def __init__(self, products: Sequence[Document], rules: Sequence[Rule], settings: Settings) -> None:
        import dataclasses
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="odoo-search-chat-")
        if settings.store.backend == "edge":
            settings = settings.replace(store=dataclasses.replace(settings.store, path=self._tmp.name))
        self.products_index = SearchIndex(settings)
        self.rules_index = SearchIndex(
            settings, kind="rule", embedder=self.products_index.embedder, store=self.products_index.store
        )
        try:
            self.products_index.reindex(products)
            if rules:
                self.rules_index.reindex([rule_document(rule) for rule in rules])
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
