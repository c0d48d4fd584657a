"""Semantic product descriptions: written offline from facts or by an LLM, then fact-checked.

In Odoo a salesperson clicks "Generate semantic description" on a product; the
addon turns the record into :class:`ProductFacts` and asks a
:class:`DescriptionWriter` for a :class:`Description`:

* :class:`TemplateWriter` works offline and deterministically. It weaves every
  available fact (name, category, attributes, variants, sale and website
  descriptions, price, internal reference) into shop-like sentences in
  Brazilian Portuguese or American English, choosing among several phrasings
  with a stable hash of the product name so a catalogue does not read like
  clones.
* :class:`LLMWriter` asks an OpenAI-compatible ``/chat/completions`` endpoint
  for a description and keywords, forbidding it to invent facts.

Either way :func:`fact_check` lists every number, price, measure or colour in
the text that the facts do not support (``"R$ 99,90"`` when the price is
129.90, ``"110V"`` when the facts say 220V, an invented warranty...). Findings
never raise: the Odoo side shows them and lets the user accept or not.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

from ._http import call_openai, openai_client, redact_url, url_secrets
from .config import LLMSettings
from .exceptions import ConfigError, InvalidInputError, LLMError

__all__ = [
    "LANGUAGES",
    "Description",
    "DescriptionWriter",
    "Finding",
    "LLMWriter",
    "ProductFacts",
    "TemplateWriter",
    "fact_check",
    "fact_keywords",
    "format_price",
    "make_writer",
    "normalise_language",
    "strip_html",
]

LANGUAGES = ("pt_BR", "en_US")
_LANGUAGE_ALIASES = {
    "pt_br": "pt_BR",
    "pt-br": "pt_BR",
    "pt": "pt_BR",
    "en_us": "en_US",
    "en-us": "en_US",
    "en": "en_US",
}

FindingKind = Literal["number", "price", "measure", "attribute"]

_WS_RE = re.compile(r"\s+")


# --------------------------------------------------------------------------- HTML


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML fragment."""

    _SKIP = frozenset({"script", "style", "template", "noscript", "head", "title"})
    _BLOCKS = frozenset(
        {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article", "header", "footer"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Return the visible text of an HTML fragment on one line.

    Tags are dropped (block tags become spaces), the content of ``script`` and
    ``style`` elements is dropped, entities are unescaped and whitespace is
    collapsed. Plain text goes through unchanged apart from whitespace.
    ``None`` or ``False`` (an empty Odoo field) give ``""``.
    """
    if not text:
        return ""
    parser = _TextExtractor()
    parser.feed(str(text))
    parser.close()
    return _clean("".join(parser.parts))


# --------------------------------------------------------------------------- value types


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

    def to_dict(self) -> dict[str, Any]:
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
    """A value in a description that the product facts do not support.

    ``kind`` is ``"price"``, ``"measure"`` (a number with a unit: 220V, 1,5 L,
    3 anos...), ``"number"`` (a bare number) or ``"attribute"`` (a colour or a
    claim such as "bivolt"); ``value`` is the text as written and ``excerpt``
    the words around it.
    """

    kind: FindingKind
    value: str
    excerpt: str

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

    def to_dict(self) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- template writer

_GENERIC_CATEGORIES = frozenset(
    {"all", "todos", "todas", "all products", "todos os produtos", "saleable", "vendavel", "vendaveis", "vendivel"}
)
_STOPWORDS = frozenset(
    "a o as os e de da do das dos em na no nas nos com para por um uma ou the and of for with in on to by".split()
)
_COLOUR_KEYS = frozenset({"cor", "cores", "color", "colors", "colour", "colours"})
_YES = frozenset({"sim", "yes", "true", "verdadeiro"})
_NO = frozenset({"nao", "no", "false", "falso"})

# singular -> (plural, grammatical gender) for common Portuguese attribute names
_PT_NOUNS = {
    "cor": ("cores", "f"),
    "tamanho": ("tamanhos", "m"),
    "voltagem": ("voltagens", "f"),
    "tensao": ("tensões", "f"),
    "sabor": ("sabores", "m"),
    "modelo": ("modelos", "m"),
    "material": ("materiais", "m"),
    "acabamento": ("acabamentos", "m"),
    "capacidade": ("capacidades", "f"),
    "estampa": ("estampas", "f"),
    "numeracao": ("numerações", "f"),
    "potencia": ("potências", "f"),
    "memoria": ("memórias", "f"),
    "armazenamento": ("armazenamentos", "m"),
    "fragrancia": ("fragrâncias", "f"),
    "aroma": ("aromas", "m"),
    "formato": ("formatos", "m"),
    "peso": ("pesos", "m"),
    "volume": ("volumes", "m"),
    "comprimento": ("comprimentos", "m"),
    "largura": ("larguras", "f"),
    "medida": ("medidas", "f"),
}

_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "pt_BR": {
        "open_category": (
            "{name} é uma ótima escolha em {category}.",
            "Conheça {name}, da nossa seção de {category}.",
            "Na categoria {category}, apresentamos {name}.",
            "Descubra {name}, destaque da categoria {category}.",
        ),
        "open": ("Conheça {name}.", "Apresentamos {name}.", "Confira {name}.", "Descubra {name}."),
        "attributes": ("Principais características: {items}.", "Conta com {items}.", "Ficha técnica: {items}."),
        "variants": ("Disponível {groups}.", "Opções disponíveis: {plain}."),
        "price": ("Por {price}.", "Preço: {price}.", "Sai por {price}."),
        "code": ("Código: {code}.", "Referência: {code}.", "Código do produto: {code}."),
    },
    "en_US": {
        "open_category": (
            "{name} is a great choice in {category}.",
            "Meet {name}, from our {category} range.",
            "From our {category} section: {name}.",
            "Discover {name}, part of our {category} collection.",
        ),
        "open": ("Meet {name}.", "Introducing {name}.", "Check out {name}.", "Discover {name}."),
        "attributes": ("Key features: {items}.", "It offers {items}.", "Specifications: {items}."),
        "variants": ("Available in {groups}.", "Comes in {groups}."),
        "price": ("Price: {price}.", "Priced at {price}.", "Yours for {price}."),
        "code": ("Product code: {code}.", "Reference: {code}.", "SKU: {code}."),
    },
}


class TemplateWriter:
    """Offline, deterministic descriptions from product facts (``source="template"``).

    Every available fact is used: an opening sentence from the name and the
    category, the sale description, a sentence of attributes, one of variant
    values, the website description (plain text), the price formatted for the
    language and the internal reference. Phrasings are picked with a stable
    hash of the product name, so the same facts always give the same text and
    different products read differently. Missing facts are simply left out.
    """

    source = "template"

    def __init__(self, language: str = "pt_BR") -> None:
        self.language = normalise_language(language)
        self._phrases = _PHRASES[self.language]

    def __repr__(self) -> str:
        return f"TemplateWriter(language={self.language!r})"

    def write(self, facts: ProductFacts) -> Description:
        """Describe ``facts``; the findings of :func:`fact_check` are included (normally none)."""
        text = self.text(facts)
        return Description(
            text=text,
            keywords=fact_keywords(facts),
            source="template",
            findings=tuple(fact_check(facts, text)),
            language=self.language,
        )

    def text(self, facts: ProductFacts) -> str:
        """Return only the description text of ``facts``."""
        name = facts.name.rstrip(" .,;:")
        levels = facts.category_levels
        if levels:
            opening = self._pick(facts, "open_category").format(name=name, category=levels[-1])
        else:
            opening = self._pick(facts, "open").format(name=name)
        sale, website = _clean(facts.sale_description), _clean(facts.website_description)
        if sale and website:
            if _fold(website) in _fold(sale):
                website = ""
            elif _fold(sale) in _fold(website):
                sale = ""
        sentences = [opening, _finish(sale)]
        items = self._attribute_items(facts)
        if items:
            sentences.append(self._pick(facts, "attributes").format(items=self._join(items)))
        sentences.append(self._variants_sentence(facts))
        sentences.append(_finish(website))
        if facts.price is not None and facts.price > 0:
            price = format_price(facts.price, facts.currency, self.language)
            sentences.append(self._pick(facts, "price").format(price=price))
        if facts.default_code:
            sentences.append(self._pick(facts, "code").format(code=facts.default_code.rstrip(" .,;:")))
        return " ".join(sentence for sentence in sentences if sentence)

    # -- pieces

    def _pick(self, facts: ProductFacts, slot: str) -> str:
        options = self._phrases[slot]
        digest = hashlib.sha256(f"{slot}\x00{_fold(facts.name)}".encode()).digest()
        return options[int.from_bytes(digest[:4], "big") % len(options)]

    def _join(self, items: Sequence[str]) -> str:
        return _join(items, "e" if self.language == "pt_BR" else "and")

    def _attribute_items(self, facts: ProductFacts) -> list[str]:
        variant_keys = {_fold(key) for key in facts.variant_values}
        items = []
        for key, value in facts.attributes.items():
            if _fold(key) in variant_keys:
                continue  # the variants sentence lists these values
            label = _soft_lower(key)
            folded = _fold(value)
            if folded in _YES:
                items.append(label)
            elif folded in _NO:
                items.append(f"{'sem' if self.language == 'pt_BR' else 'no'} {label}")
            elif folded.startswith(_fold(key)):
                items.append(value)
            else:
                items.append(f"{label} {_soft_lower(value) if _is_colour_key(key) else value}")
        return items

    def _variants_sentence(self, facts: ProductFacts) -> str:
        groups = [(key, values) for key, values in facts.variant_values.items() if values]
        if not groups:
            return ""
        template = self._pick(facts, "variants")
        if self.language == "en_US":
            return template.format(groups=", ".join(self._en_group(key, values) for key, values in groups))
        with_article = [self._pt_group(key, values, article=index == 0) for index, (key, values) in enumerate(groups)]
        plain = [self._pt_group(key, values, article=False) for key, values in groups]
        return template.format(groups=", ".join(with_article), plain=", ".join(plain))

    def _values(self, key: str, values: Sequence[str]) -> str:
        if _is_colour_key(key):
            values = [_soft_lower(value) for value in values]
        return self._join(values)

    def _pt_group(self, key: str, values: Sequence[str], *, article: bool) -> str:
        singular = _soft_lower(key)
        plural, gender = _pt_plural(singular)
        noun = plural if len(values) > 1 else singular
        text = f"{noun} {self._values(key, values)}"
        if not article:
            return text
        if gender is None:
            return f"em {text}"
        preposition = {("f", True): "nas", ("f", False): "na", ("m", True): "nos", ("m", False): "no"}
        return f"{preposition[gender, len(values) > 1]} {text}"

    def _en_group(self, key: str, values: Sequence[str]) -> str:
        if _is_colour_key(key):
            return self._values(key, values)
        noun = _soft_lower(key)
        if len(values) > 1:
            noun = _en_plural(noun)
        return f"{noun} {self._values(key, values)}"


def fact_keywords(facts: ProductFacts) -> tuple[str, ...]:
    """Lower-case, de-duplicated search keywords taken from the facts only.

    Name tokens (stop words and single characters dropped), category levels,
    attribute values, variant values, tags and the internal reference.
    """
    words: list[str] = []
    for token in _TOKEN_RE.findall(facts.name.lower()):
        if len(token) > 1 and token not in _STOPWORDS and not _NUMERIC_RE.fullmatch(token):
            words.append(token)
    words.extend(level.lower() for level in facts.category_levels)
    words.extend(value.lower() for value in facts.attributes.values())
    for values in facts.variant_values.values():
        words.extend(value.lower() for value in values)
    words.extend(tag.lower() for tag in facts.tags)
    if facts.default_code:
        words.append(facts.default_code.lower())
    return _unique(word for word in words if len(word) > 1)


_TOKEN_RE = re.compile(r"\w+(?:[.,/-]\w+)*")
_NUMERIC_RE = re.compile(r"[\d.,/-]+")


# --------------------------------------------------------------------------- LLM writer

_LANGUAGE_NAMES = {"pt_BR": "Brazilian Portuguese (pt-BR)", "en_US": "American English (en-US)"}
_SYSTEM_PROMPT = """\
You write product descriptions for an online shop, used both for customers and for the shop's search engine.
Write in {language_name}.
Rules:
- Use ONLY the facts given in the user message. Never invent anything: no numbers, prices, measures, capacities,
  voltages, warranties, colours, materials, certifications, compatibility, delivery or payment terms that are not
  in the facts.
- Copy every number, measure and price exactly as written in the facts; if you mention the price, write it as
  "price_display".
- Mention the name, the category, the attributes and the variant options when they are given.
- Plain text only: no HTML, no Markdown, no emojis. Two to five sentences.
- Keywords: 5 to 15 lower-case search terms in {language_name} that a customer could type to find this product
  (synonyms allowed, invented features not allowed).
Answer with a JSON object and nothing else: {{"description": "...", "keywords": ["...", "..."]}}"""

_FENCE_RE = re.compile(r"^\s*```(?:json|JSON)?\s*(.*?)\s*```\s*$", re.DOTALL)


class LLMWriter:
    """Descriptions from an OpenAI-compatible chat-completion endpoint (``source="llm"``).

    The request goes to ``{base_url}/chat/completions`` with the settings'
    model and temperature, ``response_format={"type": "json_object"}``, a
    system prompt that forbids inventing facts, and the facts as JSON. The
    answer is fact-checked; findings are returned in the description, never
    raised. Keywords are the model's followed by those of the facts.
    Failures (HTTP errors, timeouts, unusable answers) raise :class:`LLMError`;
    the API key never appears in errors or ``repr``.
    """

    source = "llm"

    def __init__(self, settings: LLMSettings, language: str = "pt_BR") -> None:
        if not isinstance(settings, LLMSettings) or not settings.enabled:
            raise ConfigError("the LLM description writer needs llm.base_url and llm.model to be set")
        settings.validate()
        self.language = normalise_language(language)
        self.settings = settings
        self.url = f"{settings.base_url.rstrip('/')}/chat/completions"
        self._client = openai_client(settings)
        self._where = redact_url(self.url)

    def __repr__(self) -> str:
        key = "set" if self.settings.api_key else "none"
        url = self._where
        return f"LLMWriter(model={self.settings.model!r}, url={url!r}, language={self.language!r}, api_key={key})"

    def messages(self, facts: ProductFacts) -> list[dict[str, str]]:
        """The chat messages sent for ``facts`` (system rules, then the facts as JSON)."""
        data = facts.to_dict()
        if facts.price is not None:
            data["price_display"] = format_price(facts.price, facts.currency, self.language)
        system = _SYSTEM_PROMPT.format(language_name=_LANGUAGE_NAMES[self.language])
        user = f"Write the description in {_LANGUAGE_NAMES[self.language]}. Product facts (JSON):\n" + json.dumps(
            data, ensure_ascii=False, indent=2
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def write(self, facts: ProductFacts) -> Description:
        """Ask the model to describe ``facts`` and fact-check its answer."""
        answer = call_openai(
            lambda: self._client.chat.completions.with_raw_response.create(
                model=self.settings.model,
                temperature=self.settings.temperature,
                response_format={"type": "json_object"},
                messages=self.messages(facts),
            ),
            where=self._where,
            attempts=self.settings.max_retries + 1,
            error=LLMError,
            secrets=[self.settings.api_key, *url_secrets(self.settings.base_url)],
        )
        text, keywords = self._parse(answer)
        findings = fact_check(facts, text)
        seen = {(finding.kind, _fold(finding.value)) for finding in findings}
        for finding in fact_check(facts, ", ".join(keywords)):
            if (finding.kind, _fold(finding.value)) not in seen:
                findings.append(finding)
        return Description(
            text=text,
            keywords=_unique([*keywords, *fact_keywords(facts)]),
            source="llm",
            findings=tuple(findings),
            language=self.language,
        )

    def _parse(self, answer: Any) -> tuple[str, list[str]]:
        where = self._where
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMError(f"{where} answered without a 'choices' list")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str) or not content.strip():
            reason = choices[0].get("finish_reason")
            raise LLMError(f"{where} answered an empty message (finish_reason={reason!r})")
        data = _loads_json_object(content)
        if data is None:
            cut = " (cut off: finish_reason='length')" if choices[0].get("finish_reason") == "length" else ""
            raise LLMError(f"the model's answer is not a JSON object{cut}: {content[:200]!r}")
        description = data.get("description")
        if not isinstance(description, str) or not description.strip():
            raise LLMError("the model's answer has no 'description' text")
        keywords = data.get("keywords")
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
            raise LLMError("the model's answer has no 'keywords' list of strings")
        text = strip_html(description) if re.search(r"</?[A-Za-z][^>]*>", description) else description.strip()
        return text, [_clean(word).lower() for word in keywords if word.strip()]


def _loads_json_object(content: str) -> dict[str, Any] | None:
    """Parse a JSON object from a model answer, tolerating code fences and chatter around it."""
    candidates = [content]
    fenced = _FENCE_RE.match(content)
    if fenced:
        candidates.append(fenced.group(1))
    start, end = content.find("{"), content.rfind("}")
    if 0 <= start < end:
        candidates.append(content[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def make_writer(
    kind: Literal["template", "llm"] = "template",
    *,
    language: str = "pt_BR",
    llm_settings: LLMSettings | None = None,
) -> DescriptionWriter:
    """Build the description writer ``kind`` names.

    ``"llm"`` needs enabled ``llm_settings`` (base URL and model), else
    :class:`ConfigError`; an unknown kind or language is an
    :class:`InvalidInputError`.
    """
    if kind == "template":
        return TemplateWriter(language)
    if kind == "llm":
        if llm_settings is None or not llm_settings.enabled:
            raise ConfigError("the 'llm' description writer needs LLM settings with llm.base_url and llm.model set")
        return LLMWriter(llm_settings, language)
    raise InvalidInputError(f"unknown description writer {kind!r} (known: template, llm)")


# --------------------------------------------------------------------------- fact check

_CURRENCY_CODES = ("BRL", "USD", "EUR", "GBP", "ARS", "CLP", "COP", "MXN", "PEN", "UYU", "PYG", "BOB", "CAD", "AUD")
_QUANTITY_RE = re.compile(
    r"(?P<cur>(?:R\$|US\$|U\$|\$|€|£|\b(?:" + "|".join(_CURRENCY_CODES) + r")\b)[ \t\u00a0]?)?"
    r"(?:(?<!\w)(?<!\d[.,])|(?<=\d[xX×]))"
    r"(?P<num>\d+(?:[.,]\d+)*)"
    r"(?:(?P<sp>[ \t\u00a0]?)(?P<word>[^\W\d_]+|%|°[ ]?[CcFf]?)(?!\w))?"
)
_PRICE_WORDS = frozenset({"reais", "real", "dolares", "dolar", "dollars", "dollar", "euros", "euro"})
_THOUSANDS_WORDS = frozenset({"mil"})
_ORDINALS = frozenset({"ª", "º"})
_ATTACHED_ONLY = frozenset({"a", "x", "h", "s"})  # "3 a 5 dias", "30 x 20": units only when written "10A", "10x"

# unit (lower-case, accents stripped) -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {}
for _names, _dimension, _factor in (
    ("v volt volts", "V", 1.0),
    ("kv", "V", 1000.0),
    ("w watt watts", "W", 1.0),
    ("kw", "W", 1000.0),
    ("a amp amps ampere amperes", "A", 1.0),
    ("mah", "mAh", 1.0),
    ("ah", "mAh", 1000.0),
    ("kb", "B", 1e3),
    ("mb", "B", 1e6),
    ("gb giga gigas", "B", 1e9),
    ("tb tera teras", "B", 1e12),
    ("hz", "Hz", 1.0),
    ("khz", "Hz", 1e3),
    ("mhz", "Hz", 1e6),
    ("ghz", "Hz", 1e9),
    ("mm milimetro milimetros millimeter millimeters", "m", 0.001),
    ("cm centimetro centimetros centimeter centimeters", "m", 0.01),
    ("m metro metros meter meters metre metres", "m", 1.0),
    ("km quilometro quilometros kilometer kilometers", "m", 1000.0),
    ("pol polegada polegadas inch inches", "m", 0.0254),
    ("mg miligrama miligramas", "kg", 1e-6),
    ("g grama gramas gram grams", "kg", 0.001),
    ("kg quilo quilos kilo kilos quilograma quilogramas kilogram kilograms", "kg", 1.0),
    ("lb lbs", "kg", 0.45359237),
    ("ml mililitro mililitros milliliter milliliters", "L", 0.001),
    ("cl", "L", 0.01),
    ("l litro litros liter liters litre litres", "L", 1.0),
    ("ano anos year years", "month", 12.0),
    ("mes meses month months", "month", 1.0),
    ("semana semanas week weeks", "day", 7.0),
    ("dia dias day days", "day", 1.0),
    ("h hora horas hour hours hr hrs", "s", 3600.0),
    ("min minuto minutos minute minutes", "s", 60.0),
    ("s seg segundo segundos second seconds", "s", 1.0),
    ("%", "%", 1.0),
    ("°c oc °", "°C", 1.0),
    ("°f", "°F", 1.0),
    ("x", "x", 1.0),
    ("un und unid unidade unidades peca pecas pc pcs piece pieces unit units item items itens", "pcs", 1.0),
    ("rpm", "rpm", 1.0),
    ("btu btus", "BTU", 1.0),
    ("db", "dB", 1.0),
    ("mp megapixel megapixels", "MP", 1.0),
    ("lm lumen lumens", "lm", 1.0),
    ("kcal", "kcal", 1.0),
    ("fps", "fps", 1.0),
):
    for _name in _names.split():
        _UNITS[_name] = (_dimension, _factor)

# accent-less word -> canonical attribute value; a colour named in a text but in none of the facts is flagged
_ATTRIBUTE_WORDS: dict[str, str] = {}
for _canonical, _forms in (
    ("black", "preto preta pretos pretas black"),
    ("white", "branco branca brancos brancas white"),
    ("red", "vermelho vermelha vermelhos vermelhas red"),
    ("blue", "azul azuis blue navy"),
    ("green", "verde verdes green"),
    ("yellow", "amarelo amarela amarelos amarelas yellow"),
    ("purple", "roxo roxa roxos roxas purple"),
    ("grey", "cinza cinzas grey gray"),
    ("brown", "marrom marrons brown"),
    ("beige", "bege beges beige"),
    ("lilac", "lilas lilases lilac"),
    ("golden", "dourado dourada dourados douradas golden"),
    ("silvery", "prateado prateada prateados prateadas"),
    ("graphite", "grafite graphite"),
    ("bivolt", "bivolt"),
):
    for _form in _forms.split():
        _ATTRIBUTE_WORDS[_form] = _canonical

_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class _Claim:
    kind: FindingKind
    start: int
    end: int
    values: frozenset[Any]  # candidate readings of the number (floats), or the raw token
    dimension: str = ""
    scaled: frozenset[Any] = frozenset()  # values in the dimension's base unit
    loose: bool = False  # a bare number followed by no word ("Voltagem: 220")


@dataclass
class _Known:
    numbers: set[Any] = field(default_factory=set)
    prices: set[Any] = field(default_factory=set)
    measures: set[tuple[str, Any]] = field(default_factory=set)
    loose: set[Any] = field(default_factory=set)
    words: set[str] = field(default_factory=set)


def fact_check(facts: ProductFacts, text: str) -> list[Finding]:
    """List every price, measure, number or colour in ``text`` that ``facts`` do not support.

    Numbers are compared by value, whatever their format (``1.299,90`` ==
    ``1299,90`` == ``1,299.90`` == 1299.9; ``1,5`` == 1.5); units are compared
    case-insensitively and converted within a dimension (``16 GB`` == ``16gb``,
    ``1,5 L`` == ``1500 ml``, ``1 ano`` == ``12 meses``). A price must match
    the product's price or a price written in the facts; a measure must match a
    measure of the facts (or a number the facts give without unit, such as an
    attribute ``Voltagem: 220``); a bare number must appear somewhere in the
    facts (counts of variant values included). Colours (pt/en) and "bivolt"
    must be named in the facts. Each unsupported value is listed once.
    """
    if not text:
        return []
    known = _known(facts)
    found: dict[tuple[str, str], tuple[int, Finding]] = {}

    def add(kind: FindingKind, start: int, end: int) -> None:
        value = _clean(text[start:end])
        key = (kind, _fold(value).replace(" ", ""))
        if key not in found:
            found[key] = (start, Finding(kind, value, _excerpt(text, start, end)))

    for claim in _claims(text, facts.currency):
        if not _supported(claim, known):
            add(claim.kind, claim.start, claim.end)
    for match in _WORD_RE.finditer(text):
        canonical = _ATTRIBUTE_WORDS.get(_fold(match.group()))
        if canonical is not None and canonical not in known.words:
            add("attribute", match.start(), match.end())
    return [finding for _, finding in sorted(found.values(), key=lambda item: item[0])]


def _supported(claim: _Claim, known: _Known) -> bool:
    if claim.kind == "price":
        return not claim.values.isdisjoint(known.prices)
    if claim.kind == "measure":
        if any((claim.dimension, value) in known.measures for value in claim.scaled):
            return True
        return not claim.values.isdisjoint(known.loose)
    return not claim.values.isdisjoint(known.numbers)


def _known(facts: ProductFacts) -> _Known:
    known = _Known()
    texts = [facts.name, facts.category, facts.default_code, facts.sale_description, facts.website_description]
    texts.extend(facts.tags)
    for key, value in facts.attributes.items():
        texts.extend((key, value))
    for key, values in facts.variant_values.items():
        texts.append(key)
        texts.extend(values)
        known.numbers.add(float(len(values)))
    known.numbers.add(float(len(facts.attributes)))
    if facts.price is not None:
        price = _key(facts.price)
        known.prices.add(price)
        known.numbers.add(price)
    for text in texts:
        for claim in _claims(text, facts.currency):
            known.numbers.update(claim.values)
            if claim.kind == "price":
                known.prices.update(claim.values)
            elif claim.kind == "measure":
                known.measures.update((claim.dimension, value) for value in claim.scaled)
            elif claim.loose:
                known.loose.update(claim.values)
        known.words.update(_ATTRIBUTE_WORDS.get(_fold(word), "") for word in _WORD_RE.findall(text))
    return known


def _claims(text: str, currency: str = "") -> Iterable[_Claim]:
    """Yield every number of ``text`` as a price, a measure or a bare number."""
    for match in _QUANTITY_RE.finditer(text):
        raw, word, spaced = match.group("num"), match.group("word"), bool(match.group("sp"))
        values = _parse_number(raw)
        num_start, num_end = match.span("num")
        if match.group("cur"):
            if word and _fold(word) in _THOUSANDS_WORDS:
                values = values | {_key(value * 1000) for value in values if isinstance(value, float)}
            yield _Claim("price", match.start("cur"), num_end, values)
            continue
        if word is None:
            following = text[num_end : num_end + 2]
            if following[:1] in ("x", "X", "×") and following[1:].isdigit():
                yield _Claim("number", num_start, num_end, values)  # "30x20x10 cm"
                continue
            if following[:1].isalnum():
                continue  # part of a code such as "3D2Y"
            previous = _previous_word(text, match.start())
            if currency and previous == _fold(currency):
                yield _Claim("price", match.start() - len(currency) - 1, num_end, values)
                continue
            yield _Claim("number", num_start, num_end, values, loose=True)
            continue
        unit = _fold(word).replace(" ", "")
        if unit in _PRICE_WORDS:
            yield _Claim("price", num_start, match.end(), values)
        elif unit in _UNITS and not (spaced and unit in _ATTACHED_ONLY):
            dimension, factor = _UNITS[unit]
            scaled = frozenset(_key(value * factor) if isinstance(value, float) else value for value in values)
            yield _Claim("measure", num_start, match.end(), values, dimension, scaled)
        elif spaced or word in _ORDINALS:
            yield _Claim("number", num_start, num_end, values)
        else:  # "5G", "4K": an unknown unit written against the number
            scaled = frozenset(values)
            yield _Claim("measure", num_start, match.end(), values, "?" + unit, scaled)


def _previous_word(text: str, end: int) -> str:
    match = re.search(r"([^\W\d_]+)[ \t\u00a0]?$", text[max(0, end - 12) : end])
    return _fold(match.group(1)) if match else ""


def _parse_number(raw: str) -> frozenset[Any]:
    """Every plausible value of a number written in pt or en style (ambiguous "1.299" gives two)."""
    separators = [char for char in raw if char in ".,"]
    if not separators:
        return frozenset({_key(float(raw))})
    groups = re.split(r"[.,]", raw)
    if len(set(separators)) == 2:
        last = max(raw.rfind("."), raw.rfind(","))
        decimal = raw[last]
        if decimal in raw[:last] or not all(len(group) == 3 for group in groups[1:-1]):
            return frozenset({raw})
        return frozenset({_key(float(raw[:last].replace(".", "").replace(",", "") + "." + raw[last + 1 :]))})
    if len(separators) > 1:
        if all(len(group) == 3 for group in groups[1:]):
            return frozenset({_key(float("".join(groups)))})
        return frozenset({raw})  # a version such as 1.2.3
    whole, fraction = groups
    values = {_key(float(f"{whole}.{fraction}"))}
    if len(fraction) == 3:
        values.add(_key(float(whole + fraction)))
    return frozenset(values)


def _key(value: float) -> float:
    return round(value, 6)


def _excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    left, right = max(0, start - width), min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return ("…" if left > 0 else "") + _clean(text[left:right]) + ("…" if right < len(text) else "")


# --------------------------------------------------------------------------- small helpers


def _clean(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def _fold(text: str) -> str:
    """Lower-case without accents, for comparisons."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).strip()


def _text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _clean(str(value))


def _as_list(value: Any, *, split: str | None = None) -> list[Any]:
    if value is None or value is False:
        return []
    if isinstance(value, str):
        return value.split(split) if split else [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _pairs(value: Any, name: str) -> Iterable[tuple[Any, Any]]:
    if value is None or value is False:
        return []
    if isinstance(value, Mapping):
        return value.items()
    try:
        return [(key, item) for key, item in value]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a mapping of names to values") from None


def _attributes(value: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, item in _pairs(value, "attributes"):
        key, item = _text(key), _text(item)
        if key and item:
            result[key] = item
    return result


def _variants(value: Any) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for key, items in _pairs(value, "variant_values"):
        key = _text(key)
        values = _unique(_text(item) for item in _as_list(items))
        if key and values:
            result[key] = values
    return result


def _price(value: Any) -> float | None:
    if value is None or value is False or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"price must be a number (got {value!r})")
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"price must be a number (got {value!r})") from None
    if not math.isfinite(price):
        raise InvalidInputError(f"price must be a finite number (got {value!r})")
    return price


def _finish(sentence: str) -> str:
    """End a sentence cleanly: no trailing comma or colon, a final full stop."""
    sentence = sentence.strip().rstrip(" ,;:-–—").rstrip()
    if not sentence:
        return ""
    return sentence if sentence[-1] in ".!?…" else sentence + "."


def _join(items: Sequence[str], conjunction: str) -> str:
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _soft_lower(text: str) -> str:
    """Lower-case capitalised words ("Cor Principal" -> "cor principal") but keep "RAM", "USB-C", "iPhone"."""
    return " ".join(
        word[0].lower() + word[1:] if len(word) > 1 and word[0].isupper() and word[1:].islower() else word
        for word in text.split(" ")
    )


def _is_colour_key(key: str) -> bool:
    words = _fold(key).split()
    return bool(words) and words[0] in _COLOUR_KEYS


def _pt_plural(noun: str) -> tuple[str, str | None]:
    """Plural and gender ("m"/"f", None when unsure) of a Portuguese attribute name; only its first word varies."""
    first, _, rest = noun.partition(" ")
    suffix = f" {rest}" if rest else ""
    known = _PT_NOUNS.get(_fold(first))
    if known:
        return known[0] + suffix, known[1]
    lower = first.lower()
    if not lower or not lower[-1].isalpha():
        return noun, None
    gender: str | None = None
    if lower.endswith(("a", "agem", "dade", "ção", "são")):
        gender = "f"
    elif lower.endswith(("o", "or")):
        gender = "m"
    # Only endings that are unmistakably Portuguese are inflected: attribute names are often
    # English or brand words ("Colour", "Size"), and a guessed plural ("coloures") reads worse
    # than the singular.
    if lower.endswith(("ção", "são")):
        plural = first[:-2] + "ões"
    elif lower.endswith(("dade", "agem", "ura", "ência", "ância")):
        plural = first[:-1] + "ns" if lower.endswith("agem") else first + "s"
    else:
        plural = first
    return plural + suffix, gender


def _en_plural(noun: str) -> str:
    lower = noun.lower()
    if lower.endswith(("s", "x", "ch", "sh", "z")):
        return noun + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
