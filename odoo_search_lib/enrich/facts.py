"""What a description is written from and what comes out: facts, findings, descriptions, languages, prices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

from ..exceptions import InvalidInputError
from ..types import JSONValue
from ._common import _as_list, _attributes, _fold, _price, _text, _unique, _variants
from .html import strip_html

LANGUAGES = ("pt_BR", "en_US")
_LANGUAGE_ALIASES = {
    "pt_br": "pt_BR",
    "pt-br": "pt_BR",
    "pt": "pt_BR",
    "en_us": "en_US",
    "en-us": "en_US",
    "en": "en_US",
}

#: What a :class:`Finding` is about.
FindingKind = Literal["number", "price", "measure", "attribute", "colour", "material", "brand", "certification"]

_GENERIC_CATEGORIES = frozenset(
    {"all", "todos", "todas", "all products", "todos os produtos", "saleable", "vendavel", "vendaveis", "vendivel"}
)


@dataclass(frozen=True)
class ProductFacts:
    """Everything known about a product, as the Odoo addon reads it from the record.

    Empty Odoo values (``False``, ``None``) are accepted for every field but
    ``name`` and are normalised: strings are stripped, empty attribute values
    are dropped, ``variant_values`` values become tuples (a single string is
    one value), ``website_description`` is reduced to plain text with
    :func:`strip_html`, ``currency`` is upper-cased. ``category`` is a path such
    as ``"Casa > Cozinha > Chaleiras"``.
    """

    name: str
    category: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    variant_values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    tags: Sequence[str] = ()
    price: float | None = None
    currency: str = "BRL"
    sale_description: str = ""
    website_description: str = ""
    default_code: str = ""

    def __post_init__(self) -> None:
        name = _text(self.name)
        if not name:
            raise InvalidInputError("a product needs a name to be described")
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "category", _text(self.category))
        set_(self, "attributes", MappingProxyType(_attributes(self.attributes)))
        set_(self, "variant_values", MappingProxyType(_variants(self.variant_values)))
        set_(self, "tags", _unique(_text(tag) for tag in _as_list(self.tags, split=",")))
        set_(self, "price", _price(self.price))
        set_(self, "currency", _text(self.currency).upper())
        set_(self, "sale_description", _text(self.sale_description))
        set_(self, "website_description", strip_html(self.website_description))
        set_(self, "default_code", _text(self.default_code))

    @property
    def category_levels(self) -> tuple[str, ...]:
        """The meaningful category levels, outermost first (Odoo's "All" / "Saleable" roots dropped)."""
        levels = (part.strip() for part in self.category.split(">"))
        return tuple(level for level in levels if level and _fold(level) not in _GENERIC_CATEGORIES)

    def to_dict(self) -> dict[str, JSONValue]:
        """The non-empty facts as a JSON-serialisable dict (what an LLM is given)."""
        data: dict[str, Any] = {"name": self.name}
        if self.category_levels:
            data["category"] = " > ".join(self.category_levels)
        if self.attributes:
            data["attributes"] = dict(self.attributes)
        if self.variant_values:
            data["variants"] = {key: list(values) for key, values in self.variant_values.items()}
        if self.tags:
            data["tags"] = list(self.tags)
        if self.price is not None:
            data["price"] = self.price
            data["currency"] = self.currency
        for key in ("sale_description", "website_description", "default_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class Finding:
    """A value in a text that its sources (the product facts) do not support.

    ``kind`` is ``"price"``, ``"measure"`` (a number with a unit: 220V, 1,5 L, 3 anos, dois anos...),
    ``"number"`` (a bare number), ``"colour"``, ``"material"``, ``"brand"``, ``"certification"``
    (INMETRO, ISO 9001, IP67, "certificado"...) or ``"attribute"`` (a claim such as "bivolt");
    ``value`` is the text as written, ``excerpt`` the words around it, and ``start``/``end`` its
    offsets in the checked text (-1 when unknown, e.g. rebuilt from a stored dict; not compared).
    """

    kind: FindingKind
    value: str
    excerpt: str
    start: int = field(default=-1, compare=False)
    end: int = field(default=-1, compare=False)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value, "excerpt": self.excerpt}


@dataclass(frozen=True)
class Description:
    """A written description, its search keywords and what the fact check found."""

    text: str
    keywords: tuple[str, ...]
    source: Literal["template", "llm"]
    findings: tuple[Finding, ...] = ()
    language: str = "pt_BR"

    @property
    def has_findings(self) -> bool:
        """True when the fact check flagged something the user should review."""
        return bool(self.findings)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "text": self.text,
            "keywords": list(self.keywords),
            "source": self.source,
            "findings": [finding.to_dict() for finding in self.findings],
            "language": self.language,
        }


@runtime_checkable
class DescriptionWriter(Protocol):
    """Anything that turns product facts into a description."""

    language: str

    def write(self, facts: ProductFacts) -> Description:
        """Return a description of ``facts`` in the writer's language."""
        ...


def normalise_language(language: str) -> str:
    """Return ``"pt_BR"`` or ``"en_US"`` for a language code (``pt``, ``pt-BR``, ``en_US``...).

    Raises :class:`InvalidInputError` for anything else.
    """
    code = _LANGUAGE_ALIASES.get(str(language or "").strip().lower())
    if code is None:
        raise InvalidInputError(f"unsupported description language {language!r} (supported: {', '.join(LANGUAGES)})")
    return code


def format_price(amount: float, currency: str, language: str) -> str:
    """Format a price the way a shop in ``language`` writes it.

    ``pt_BR``: ``R$ 1.299,90`` (``US$`` for dollars, the ISO code otherwise);
    ``en_US``: ``$1,299.90`` for dollars, ``BRL 1,299.90`` for anything else.
    An empty ``currency`` means the language's own currency.
    """
    language = normalise_language(language)
    currency = (currency or "").strip().upper()
    english = f"{amount:,.2f}"
    if language == "pt_BR":
        number = english.translate(str.maketrans(",.", ".,"))
        symbol = {"": "R$", "BRL": "R$", "USD": "US$"}.get(currency, currency)
        return f"{symbol} {number}"
    if currency in ("", "USD"):
        return f"${english}"
    return f"{currency} {english}"
