"""The fact check: every value a description states must come from the product's facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._common import _clean, _fold
from .facts import (
    Finding,
    FindingKind,
    ProductFacts,
)

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
