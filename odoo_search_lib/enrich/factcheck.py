"""The fact check: every value a description (or an assistant's reply) states must come from its sources."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from text_to_num import alpha2digit

from ._common import _clean, _fold
from .facts import Finding, FindingKind, ProductFacts
from .vocabulary import BRANDS, CERTIFICATION_RE, CERTIFICATION_WORDS, CLAIM_WORDS, COLOURS, MATERIALS

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

_WORD_RE = re.compile(r"[^\W\d_]+")
#: A hyphen inside a word run ("two-year", "azul-marinho"), read as a space by the word scanners.
_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
#: Spelled-out "one" that is usually an article ("um produto", "a lid"): a claim only before a unit.
_ARTICLES = frozenset({"um", "uma", "one", "a", "an"})
#: The languages whose spelled-out numbers are read (``text2num`` names).
_NUMBER_LANGUAGES = ("pt", "en")
#: An ordinal as text2num writes it ("1º", "2ª", "3rd"): "o primeiro modelo" states no number.
_ORDINAL_RE = re.compile(r"\d+(?:º|ª|o|a|st|nd|rd|th)[.,;:!?]?")
_VOCABULARIES: tuple[tuple[FindingKind, Mapping[str, str]], ...] = (
    ("colour", COLOURS),
    ("material", MATERIALS),
    ("attribute", CLAIM_WORDS),
    ("certification", CERTIFICATION_WORDS),
)
_BRAND_RE = re.compile(
    r"(?<![\w&+-])(?:" + "|".join(re.escape(_fold(brand)) for brand in sorted(BRANDS, key=len, reverse=True)) + r")"
    r"(?![\w&+-])"
)
_MARKED_RE = re.compile(r"([^\W\d_][\w&+.-]*)\s?[®™]")  # "Turbomix®": a trade mark, hence a brand


@dataclass(frozen=True)
class _Claim:
    kind: FindingKind
    start: int
    end: int
    values: frozenset[Any]  # candidate readings of the number (floats), or the raw token
    dimension: str = ""
    scaled: frozenset[Any] = frozenset()  # values in the dimension's base unit
    loose: bool = False  # a bare number followed by no word ("Voltagem: 220")


class FactChecker:
    """What a text may state, learnt once from trusted sources; :meth:`check` lists what a text adds.

    It is the check of the description writers (:func:`fact_check`) and the base of the sales assistant's
    grounding: build one from every text a reply may draw on (product facts, business rules), then check
    each reply. Recognised (pt and en): prices, numbers with or without units, spelled-out numbers
    ("dois anos", "two-year"), colours, materials, brands, certifications and claims such as "bivolt".

    ``sources`` are the trusted texts; ``prices`` and ``numbers`` are values they support without writing
    them (a product's price, counts of its variant values); ``currency`` is the ISO code a bare
    ``"<code> 99"`` price is written with.
    """

    def __init__(
        self,
        sources: Iterable[str],
        *,
        prices: Iterable[float] = (),
        numbers: Iterable[float] = (),
        currency: str = "",
    ) -> None:
        self.currency = currency.strip().upper()
        self._numbers: set[Any] = {_key(float(number)) for number in numbers}
        self._prices: set[Any] = {_key(float(price)) for price in prices}
        self._numbers |= self._prices
        self._measures: set[tuple[str, Any]] = set()
        self._loose: set[Any] = set()
        self._words: set[tuple[str, str]] = set()  # (kind, canonical)
        folded: list[str] = []
        for source in sources:
            if not source:
                continue
            for claim in _number_claims(source, self.currency):
                self._numbers.update(claim.values)
                if claim.kind == "price":
                    self._prices.update(claim.values)
                elif claim.kind == "measure":
                    self._measures.update((claim.dimension, value) for value in claim.scaled)
                elif claim.loose:
                    self._loose.update(claim.values)
            self._words.update((kind, key) for kind, key, _start, _end in _word_claims(source))
            folded.append(_fold_in_place(source))
        # The sources folded, as words separated by one space ("&", "+", "-" kept: "Black+Decker").
        self._source_words = " " + " ".join(re.findall(r"[\w&+-]+", " ".join(folded))) + " "

    @classmethod
    def for_product(cls, facts: ProductFacts) -> FactChecker:
        """The checker for descriptions of one product: everything in ``facts`` is supported."""
        return cls.for_products([facts])

    @classmethod
    def for_products(cls, products: Iterable[ProductFacts], sources: Iterable[str] = ()) -> FactChecker:
        """The checker for a text about several products (an assistant's reply), plus other trusted ``sources``."""
        texts: list[str] = list(sources)
        prices: list[float] = []
        numbers: list[float] = []
        currency = ""
        for facts in products:
            texts.extend(
                [facts.name, facts.category, facts.default_code, facts.sale_description, facts.website_description]
            )
            texts.extend(facts.tags)
            for key, value in facts.attributes.items():
                texts.extend((key, value))
            for key, values in facts.variant_values.items():
                texts.append(key)
                texts.extend(values)
                numbers.append(float(len(values)))
            numbers.append(float(len(facts.attributes)))
            if facts.price is not None:
                prices.append(facts.price)
            currency = currency or facts.currency
        return cls(texts, prices=prices, numbers=numbers, currency=currency)

    def check(self, text: str) -> list[Finding]:
        """Every value of ``text`` the sources do not support, once each, in text order."""
        if not text:
            return []
        found: dict[tuple[str, str], Finding] = {}

        def add(kind: FindingKind, start: int, end: int) -> None:
            value = _clean(text[start:end])
            key = (kind, _fold(value).replace(" ", "").replace("-", ""))
            if key not in found:
                found[key] = Finding(kind, value, _excerpt(text, start, end), start, end)

        words = list(_word_claims(text))
        named = [(start, end) for kind, _key, start, end in words if kind == "certification"]
        for claim in _number_claims(text, self.currency):
            if any(start <= claim.start < end for start, end in named):
                continue  # the number of "ISO 9001" belongs to the certification
            if not self._supports(claim):
                add(claim.kind, claim.start, claim.end)
        for kind, key, start, end in words:
            if (kind, key) not in self._words:
                add(kind, start, end)
        folded = _fold_in_place(text)
        for match in _BRAND_RE.finditer(folded):
            if text[match.start()].isupper() and f" {match.group()} " not in self._source_words:
                add("brand", match.start(), match.end())
        for match in _MARKED_RE.finditer(text):
            name = _fold(match.group(1))
            if f" {name} " not in self._source_words:
                add("brand", match.start(1), match.end(1))
        return sorted(found.values(), key=lambda finding: finding.start)

    def _supports(self, claim: _Claim) -> bool:
        if claim.kind == "price":
            return not claim.values.isdisjoint(self._prices)
        if claim.kind == "measure":
            if any((claim.dimension, value) in self._measures for value in claim.scaled):
                return True
            return not claim.values.isdisjoint(self._loose)
        return not claim.values.isdisjoint(self._numbers)


def fact_check(facts: ProductFacts, text: str) -> list[Finding]:
    """List every value in ``text`` that ``facts`` do not support (see :class:`FactChecker`).

    Numbers are compared by value, whatever their format (``1.299,90`` ==
    ``1299,90`` == ``1,299.90`` == 1299.9; ``1,5`` == 1.5) or spelling (``dois anos`` == ``2 anos``,
    ``two-year`` == ``2 year``); units are compared case-insensitively and converted within a dimension
    (``16 GB`` == ``16gb``, ``1,5 L`` == ``1500 ml``, ``1 ano`` == ``12 meses``). A price must match
    the product's price or a price written in the facts; a measure must match a measure of the facts (or
    a number the facts give without unit, such as an attribute ``Voltagem: 220``); a bare number must
    appear somewhere in the facts (counts of variant values included). Colours, materials, brands,
    certifications and "bivolt" must be named in the facts. Each unsupported value is listed once.
    """
    return FactChecker.for_product(facts).check(text)


def _number_claims(text: str, currency: str) -> Iterator[_Claim]:
    """The numbers of ``text``: written with digits, then spelled out (claims not already found)."""
    seen: set[int] = set()
    for claim in _claims(text, currency):
        seen.add(claim.start)
        yield claim
    for claim in _spelled_claims(text, currency):
        if claim.start not in seen:
            yield claim


def _spelled_claims(text: str, currency: str) -> Iterator[_Claim]:
    """Claims of spelled-out numbers ("dois anos de garantia", "two-year warranty"), at their place in ``text``.

    ``text2num`` rewrites the numbers with digits; the rewritten words are aligned back onto the original
    ones, so a claim keeps the span of the words as written.
    """
    prepared = _HYPHEN_RE.sub(" ", text)  # same length: offsets still match ``text``
    source = [(match.start(), match.end(), match.group()) for match in re.finditer(r"\S+", prepared)]
    for language in _NUMBER_LANGUAGES:
        converted = alpha2digit(prepared, language, threshold=0)
        if converted != prepared:
            yield from _aligned_claims(source, converted, currency)


def _aligned_claims(source: list[tuple[int, int, str]], converted: str, currency: str) -> Iterator[_Claim]:
    target = [(match.start(), match.end(), match.group()) for match in re.finditer(r"\S+", converted)]
    matcher = SequenceMatcher(a=[token for *_, token in source], b=[token for *_, token in target], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace":
            continue
        words = [_fold(token).strip(".,;:!?") for *_, token in source[i1:i2]]
        if all(len(word) <= 2 and word not in _ARTICLES for word in words):
            continue  # "os", "o" read as zero ("oh") by the English reader
        if any(_ORDINAL_RE.fullmatch(token) for *_, token in target[j1:j2]):
            continue
        # The rewritten number and the word after it (its unit), as the digit scanner would read them.
        stop = min(j2 + 1, len(target))
        origin = target[j1][0]
        number_end = target[j2 - 1][1] - origin
        for claim in _claims(converted[origin : target[stop - 1][1]], currency):
            if claim.start >= number_end:
                continue  # a number of the following word, not of the rewritten ones
            if claim.kind != "measure" and len(words) == 1 and words[0] in _ARTICLES:
                continue  # "um produto", "one lid": an article
            last = source[i2] if claim.end > number_end and i2 < len(source) else source[i2 - 1]
            end = last[0] + len(last[2].rstrip(".,;:!?)"))
            yield _Claim(claim.kind, source[i1][0], end, claim.values, claim.dimension, claim.scaled, claim.loose)


def _word_claims(text: str) -> Iterator[tuple[FindingKind, str, int, int]]:
    """``(kind, canonical, start, end)`` of every colour, material, claim word and certification of ``text``."""
    for match in _WORD_RE.finditer(text):
        word = _fold(match.group())
        for kind, table in _VOCABULARIES:
            canonical = table.get(word)
            if canonical is not None:
                yield kind, canonical, match.start(), match.end()
    for match in CERTIFICATION_RE.finditer(text):
        yield "certification", re.sub(r"[\W_]+", "", _fold(match.group())), match.start(), match.end()


def _fold_in_place(text: str) -> str:
    """``text`` lower-cased without accents, character for character (offsets stay valid)."""
    out = []
    for char in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).casefold()
        out.append(base if len(base) == 1 else char.lower()[:1] or char)
    return "".join(out)


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
