"""Constraints written in the query: budgets, "cheap", voltage, size and stock, in Portuguese and English.

``parse_query("fone bluetooth ate 200 reais", "pt")`` finds a budget (``price_max`` 200) and leaves
``"fone bluetooth"`` for the dense and BM25 signals. The searcher turns what was understood into
filters (prices, stock: intersected with the caller's filters, relaxed when they leave nothing) and
boosts (voltage, size, cheap), and says so in ``SearchResult.understood``.

What is read (accents, case and chat spellings are folded first: ``ate``, ``até``, ``R$150``):

- budgets: ``ate 200``, ``no maximo 300 reais``, ``menos de R$ 150``, ``under $400``, ``less than 50``;
  minimums: ``acima de 100``, ``a partir de 80``, ``over 50``, ``at least 20``; ranges:
  ``entre 80 e 120``, ``de 80 a 120 reais``, ``between 10 and 20``, ``from $10 to $20``, ``80-120 reais``;
  an amount with a currency alone (``tenis 300 reais``) is a budget. Money formats are read by
  ``price-parser`` (``1.299,90``, ``1,299.90``, ``1.299``); ``k`` and ``mil`` multiply by 1000
  (``1.5k``, ``2 mil``), spelled-out numbers go through ``text2num`` first (``ate cem reais``).
  A number followed by another unit (``ate 12x``, ``de 5 a 8 anos``, ``mais de 2 lugares``) is no price.
- ``barato``, ``baratinho``, ``em conta``, ``cheap``, ``affordable``...: a mild boost towards cheaper hits.
- voltage: ``110v``, ``127 v``, ``220 volts``, ``bivolt``, ``voltagem 220``, and a bare ``110``/``127``/``220``
  that no price cue or unit claims (``geladeira 110``): a boost for hits whose attributes match
  (110 and 127 are one supply; a bivolt product suits either).
- size: ``tamanho G``, ``tam 42``, ``numero 37``, ``nº 38``, ``size M``, ``size 10``: a boost for hits whose
  size attribute holds it (``G`` and ``L``, ``GG`` and ``XL``... are the same size).
- stock: ``em estoque``, ``pronta entrega``, ``disponivel``, ``in stock``, ``available``: a filter.

The patterns are written here because no maintained package reads shopping constraints in
Portuguese (quantity extractors such as ``quantulum3`` know units, not ``no maximo`` or ``tamanho G``,
and load classifiers a query path cannot afford); numbers themselves come from the two packages above.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import Any

from price_parser import Price
from text_to_num import alpha2digit

from .exceptions import QueryError
from .types import Filters, JSONValue, Understood

__all__ = [
    "KINDS",
    "ParsedQuery",
    "Understood",  # defined in types (SearchResult holds it), read from here
    "boost_factor",
    "merge_filters",
    "parse_query",
]

#: Every kind of constraint, in the order ``parse_query`` reports them.
KINDS = ("price_range", "price_min", "price_max", "cheap", "voltage", "size", "in_stock")
FILTER_KINDS = frozenset({"price_range", "price_min", "price_max", "in_stock"})
LANGUAGES = ("pt", "en")
#: Characters of a query that are read: longer input is cut (the searcher caps queries earlier still).
MAX_PARSED_CHARS = 2000
#: Amounts above this are not budgets (``10^30`` reais), nor are amounts of 0 or less.
MAX_AMOUNT = 1e9
#: At most this many constraints are read from one query (a pasted list of "110v 110v ..." stays small).
MAX_CONSTRAINTS = 10
#: Multiplier of a hit's score whose voltage or size matches what was asked. With RRF (k 10) it lifts a
#: matching hit over the same product in another voltage or size a few places above, not over the
#: right product type ten places above (bench/constraint_queries.tsv: 1.5 beat 1.25 on both labelled sets).
ATTRIBUTE_BOOST = 1.5
#: At most this much up or down for "cheap": a hit at half (or twice) the median price of its category's candidates.
CHEAP_BOOST = 0.12


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what the text signals should see (``text``) and its ``constraints``."""

    text: str
    constraints: tuple[Understood, ...] = ()


# -- patterns ---------------------------------------------------------------------------------
# Written against folded text (lower case, no accents), one character per character of the query.

#: Digits with thousands or decimal separators; at most 20 characters are read (no price is longer), so a
#: run of thousands of digits costs no more than a short one.
_NUM = r"(?<![\d.,])\d{1,20}(?:[.,]\d{1,20}){0,6}(?!\d)"
_CURRENCY_BEFORE = r"(?:r\s?\$|us\$|u\$|\$|rs\.?(?=\s*\d)|brl|usd|€|eur)"
_CURRENCY_AFTER = (
    r"(?:reais|real|r\$|rs|conto|contos|pila|pilas|dolares|dolar|dollars?|bucks|usd|brl|euros?|\$|€)(?!\w)"
)
#: One amount: currency, number, thousands suffix, currency. Group names carry the index (a range has two).
_AMOUNT = r"(?P<cb{i}>{cb}\s*)?(?P<n{i}>{num})(?:\s*(?P<k{i}>k|mil)(?!\w))?(?P<ca{i}>\s*{ca})?"


def _amount(index: int) -> str:
    return _AMOUNT.format(i=index, cb=_CURRENCY_BEFORE, num=_NUM, ca=_CURRENCY_AFTER)


#: Words that may lead a price phrase and go with it ("por ate 200", "que custe no maximo 300").
_LEAD = (
    r"(?:(?<!\w)(?:por|de|com|custando|que\s+custe[m]?|que\s+seja|preco|valor|orcamento|gastando|pagando|pagar|gastar"
    r"|na\s+faixa|faixa|for|priced|costing|budget|my\s+budget\s+is|e|and)\s+){0,3}"
)
_MAX_CUE = (
    r"(?:ate|ateh|no\s+maximo|maximo|max|menos\s+(?:de|que|do\s+que)|abaixo\s+de|inferior\s+a|nao\s+passe\s+de"
    r"|nao\s+passando\s+de|mais\s+barat[oa]s?\s+(?:que|do\s+que)|limite\s+de|under|below|less\s+than"
    r"|up\s+to|at\s+most|no\s+more\s+than|maximum|cheaper\s+than|within|<=?)"
)
_MIN_CUE = (
    r"(?:acima\s+de|mais\s+de|a\s+partir\s+de|no\s+minimo|minimo|min|pelo\s+menos|maior\s+que|superior\s+a"
    r"|mais\s+car[oa]s?\s+(?:que|do\s+que)|over|above|more\s+than|at\s+least|starting\s+at|from|>=?)"
)
_RANGE = re.compile(
    rf"{_LEAD}(?:(?P<between>entre|between)\s+{_amount(1)}\s*(?:e|and|a|-)\s*{_amount(2)}"
    rf"|(?P<fromto>de|from)\s+{_amount(3)}\s*(?:a|ate|to|-)\s*{_amount(4)}"
    rf"|(?<![\w.,]){_amount(5)}\s*(?:-|a|to)\s*{_amount(6)})(?!\w)"
)
_MAX = re.compile(rf"{_LEAD}{_MAX_CUE}\s*{_amount(1)}(?!\w)")
_MIN = re.compile(rf"{_LEAD}{_MIN_CUE}\s*{_amount(1)}(?!\w)")
#: An amount with a currency and no cue: a budget ("tenis 300 reais", "R$ 1.299,90").
_BARE_AMOUNT = re.compile(rf"{_LEAD}(?<![\w.,]){_amount(1)}(?!\w)")
#: Units that make a number something else than a price ("ate 12x", "de 5 a 8 anos", "mais de 2 lugares").
_UNIT = re.compile(
    r"\s*(?:%|x(?!\w)|°|\"|'|(?:anos?|meses|mes|dias?|horas?|hs?|min|minutos|cm|mm|m|metros?|km|kg|g|gramas|mg"
    r"|l|litros?|ml|w|watts?|v|volts?|kw|kwh|btus?|hz|mhz|ghz|gb|tb|mb|mah|pol|polegadas?|pes|lugares|lugar"
    r"|pecas?|portas?|bocas|velocidades|vezes|parcelas|pessoas|unidades|un|und|itens|cores|rpm|dpi|mp|fps|ms"
    r"|pcs|inches|inch|in|ft|lbs?|oz|years?|months?|days?|people|pieces|pack|seats|speeds|xicaras|marchas"
    r"|aro|andares|gavetas|camadas|fps|psi|bar|lumens|k(?!\w))(?!\w))"
)
_CHEAP = re.compile(
    r"(?<!\w)(?:(?:o\s+|a\s+|os\s+|as\s+|the\s+)?(?:mais\s+)?barat(?:o|a|os|as|inho|inha|inhos|inhas|in|issimo|issima)"
    r"|em\s+conta|preco\s+baixo|precinho|bom\s+preco|menor\s+preco|baixo\s+custo|(?:the\s+)?cheap(?:er|est)?"
    r"|affordable|inexpensive|low[\s-]?cost|low\s+price|budget)(?!\w)"
)
_VOLTAGE = re.compile(
    r"(?<![\w.,])(?:(?:voltagem|tensao|voltage)\s*(?:de\s+)?)?(?P<v>110|115|120|127|220|230|240)\s*(?:v|volts?|vac)(?!\w)"
    r"|(?:voltagem|tensao|voltage)\s*(?:de\s+)?(?P<w>110|115|120|127|220|230|240)(?!\w)"
    r"|(?<!\w)(?P<bi>bi-?\s?volts?|bivolt|dupla\s+voltagem|dual\s+voltage)(?!\w)"
)
#: A bare 110/127/220, read as a voltage only when nothing else claims it and no unit follows.
_BARE_VOLTAGE = re.compile(r"(?<![\w.,$])(?P<v>110|127|220)(?![\w.,])")
_LETTER_SIZES = (
    "pp|p|m|g|gg|xg|xgg|eg|egg|exg|xs|s|l|xl|xxl|xxxl|2xl|3xl|u|unico|pequen[oa]|medi[oa]|grande|extra\\s+grande"
    "|small|medium|large|extra\\s+large"
)
_SIZE = re.compile(
    # a space before a letter size ("size s"), none needed before a number ("tam42"): "sizes" is no size S
    rf"(?<!\w)(?:(?:tamanho|tamanhos|tamnho|tam\.?|size|sz)(?:\s+|(?=\d))(?:de\s+)?"
    rf"(?P<s>{_LETTER_SIZES}|\d{{1,2}}(?:[.,]5)?)"
    r"|(?:numero|numeracao|num\.?|n[o°º]\.?|n\.)\s*(?P<n>\d{1,2}(?:[.,]5)?))(?!\w)"
)
_STOCK = re.compile(
    # "disponivel em azul" / "available in blue" asks for a variant, not for stock
    r"(?<!\w)(?:(?:tem\s+)?(?:em|no|com)\s+estoque|(?:a\s+|pra\s+|para\s+)?pronta[\s-]+entrega"
    r"|disponive(?:l|is)(?!\s+(?:em|no|na|nos|nas|in)(?!\w))|in[\s-]stock|available(?:\s+now)?(?!\s+in(?!\w))"
    r"|ready\s+to\s+ship)(?!\w)"
)

#: The same size written differently: Brazilian letters, English letters, words.
_SIZE_GROUPS = (
    ("PP", "XS", "EXTRA PEQUENO"),
    ("P", "S", "PEQUENO", "PEQUENA", "SMALL"),
    ("M", "MEDIO", "MEDIA", "MEDIUM"),
    ("G", "L", "GRANDE", "LARGE"),
    ("GG", "XL", "EXTRA GRANDE", "EXTRA LARGE"),
    ("XG", "XGG", "EG", "EGG", "EXG", "XXL", "2XL"),
    ("XXXL", "3XL"),
    ("U", "UNICO"),
)
_SIZE_ALIASES = {alias: group[0] for group in _SIZE_GROUPS for alias in group}
_DIGITS_MIL = re.compile(r"(\d)\s*mil(?!\w)", re.IGNORECASE)
_VOLTAGE_GROUP = {
    "110": "110V",
    "115": "110V",
    "120": "110V",
    "127": "110V",
    "220": "220V",
    "230": "220V",
    "240": "220V",
}
_VALUE_VOLTAGE = re.compile(r"(?<!\d)(110|115|120|127|220|230|240)\s*v(?:olts?)?(?![a-z])|bivolt|bi-volt")
_SIZE_KEYS = ("tamanho", "size", "numer")
_VOLTAGE_KEYS = ("voltagem", "tensao", "voltage")


def parse_query(text: str, language: str) -> ParsedQuery:
    """Read the constraints of ``text`` (Portuguese and English phrasings are read in either language).

    ``language`` (``"pt"`` or ``"en"``) picks how spelled-out numbers are read. Never raises on odd
    text: what cannot be read stays in ``ParsedQuery.text``; a constraint with an impossible value
    (a budget of 0 or of 10^30) is not reported. ``text`` of the result is never empty.
    """
    if language not in LANGUAGES:
        raise QueryError(f"unsupported language {language!r} (use pt or en)", code="unsupported_language")
    if not isinstance(text, str):
        raise QueryError("the query must be a string")
    original = text.encode("utf-8", "replace").decode("utf-8")[:MAX_PARSED_CHARS]
    source = _spell_numbers(original, language)
    folded = _fold_same_length(source)
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, Understood]] = []

    for pattern, read, once in _READERS:
        for match in pattern.finditer(folded):
            if len(found) >= MAX_CONSTRAINTS:
                break
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            read_value = read(match, folded)
            if read_value is None or (once and any(item.kind == read_value[0] for _, item in found)):
                continue
            kind, value = read_value
            start, end = _trim(folded, match.start(), match.end())
            taken.append((match.start(), match.end()))
            applied = "filter" if kind in FILTER_KINDS else "boost"
            found.append((start, Understood(kind, value, " ".join(source[start:end].split()), applied)))
    if not found:
        return ParsedQuery(original)
    found.sort(key=lambda item: item[0])
    rest = _remove(source, taken)
    return ParsedQuery(rest or original, tuple(item for _, item in found))


def _spell_numbers(text: str, language: str) -> str:
    """``ate cem reais`` -> ``ate 100 reais`` (text2num; isolated small numbers such as ``um`` are kept).

    ``2 mil`` becomes ``2k`` first: text2num would read the ``mil`` alone (``2 1000``).
    """
    text = _DIGITS_MIL.sub(r"\1k", text)
    try:
        return alpha2digit(text, language)
    except (ValueError, TypeError):  # pragma: no cover - text2num refuses nothing we send it
        return text


def _fold_same_length(text: str) -> str:
    """Lower case without accents, one character per character, so positions map back to ``text``."""
    out = []
    for char in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
        out.append(base[0] if len(base) == 1 else (char.lower() if len(char.lower()) == 1 else " "))
    return "".join(out)


def _trim(folded: str, start: int, end: int) -> tuple[int, int]:
    while start < end and folded[start].isspace():
        start += 1
    while end > start and folded[end - 1].isspace():
        end -= 1
    return start, end


def _unit_follows(folded: str, end: int) -> bool:
    return _UNIT.match(folded, end) is not None


def _number(raw: str, thousands: bool) -> float | None:
    try:
        amount = Price.fromstring(raw).amount
        value = float(amount) if amount is not None else None
    except (InvalidOperation, ValueError, OverflowError):
        return None
    if value is None:
        return None
    value *= 1000 if thousands else 1
    if not math.isfinite(value) or not 0 < value <= MAX_AMOUNT:
        return None
    return round(value, 2)


def _read_amount(match: re.Match[str], index: int) -> float | None:
    raw = match.group(f"n{index}")
    if len(raw) > 20:  # a run of digits nobody types as a price
        return None
    return _number(raw, bool(match.group(f"k{index}")))


def _read_range(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
    first = 1 if match.group("between") else 3 if match.group("fromto") else 5
    low, high = _read_amount(match, first), _read_amount(match, first + 1)
    money = any(match.group(f"{part}{index}") for part in ("cb", "ca") for index in (first, first + 1))
    # "de 5 a 8 anos" is an age, "entre 10 e 20 cm" a length; "de 2 a 3" without a currency is too
    # ambiguous to be a price; "entre 80 e 120" is one unless a unit follows.
    if low is None or high is None or _unit_follows(folded, match.end()):
        return None
    if not money and not match.group("between"):
        return None
    return "price_range", {"min": min(low, high), "max": max(low, high)}


#: Below this, an amount without a currency after "mais de" / "ate" is a count, not a price ("sofa mais de 3").
MIN_BARE_BOUND = 10


def _read_bound(kind: str) -> Callable[[re.Match[str], str], tuple[str, JSONValue] | None]:
    def read(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
        amount = None if _unit_follows(folded, match.end()) else _read_amount(match, 1)
        money = match.group("cb1") or match.group("ca1")
        if amount is None or (not money and amount < MIN_BARE_BOUND):
            return None
        return kind, amount

    return read


def _read_bare_amount(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
    """An amount without a cue is a budget only with a currency ("300 reais", "R$ 1.299,90")."""
    amount = _read_amount(match, 1) if match.group("cb1") or match.group("ca1") else None
    return None if amount is None else ("price_max", amount)


def _read_voltage(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
    number = match.group("v") or match.group("w")
    return "voltage", f"{number}V" if number else "bivolt"


def _read_bare_voltage(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
    return None if _unit_follows(folded, match.end()) else ("voltage", f"{match.group('v')}V")


def _read_size(match: re.Match[str], folded: str) -> tuple[str, JSONValue] | None:
    value = " ".join((match.group("s") or match.group("n")).split()).upper().replace(",", ".")
    return "size", _SIZE_ALIASES.get(value, value)


#: What is read, in order (an earlier reader's words are not read again), and whether once is enough.
_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], str], tuple[str, JSONValue] | None], bool], ...] = (
    (_STOCK, lambda match, folded: ("in_stock", True), True),
    (_VOLTAGE, _read_voltage, False),
    (_SIZE, _read_size, False),
    (_RANGE, _read_range, False),
    (_MAX, _read_bound("price_max"), False),
    (_MIN, _read_bound("price_min"), False),
    (_BARE_AMOUNT, _read_bare_amount, False),
    (_CHEAP, lambda match, folded: ("cheap", True), True),
    # a bare 110/127/220 only when no voltage was written with its unit
    (_BARE_VOLTAGE, _read_bare_voltage, True),
)


def _remove(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the ``spans``, spaces collapsed and stray punctuation at the ends dropped."""
    kept, position = [], 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = max(position, end)
    kept.append(text[position:])
    rest = " ".join(" ".join(kept).split())
    rest = re.sub(r"\s+([,.;:!?])", r"\1", rest)
    return rest.strip(" ,;:-")


# -- applying --------------------------------------------------------------------------------


def merge_filters(
    base: Filters | None, constraints: Iterable[Understood]
) -> tuple[Filters | None, tuple[Understood, ...]]:
    """The caller's ``base`` filters narrowed by the parsed price and stock constraints.

    Never widens ``base``: bounds are intersected. A parsed filter that contradicts ``base`` (a minimum
    above the caller's maximum, ``in_stock`` when the caller asked for out-of-stock products) is left
    out and marked ``relaxed``. Returns the filters to search with and every constraint, each with
    its ``applied`` set.
    """
    current = base or Filters()
    price_min, price_max, in_stock = current.price_min, current.price_max, current.in_stock
    out: list[Understood] = []
    for item in constraints:
        if item.kind not in FILTER_KINDS:
            out.append(item)
            continue
        low, high = _bounds(item)
        new_min = low if price_min is None else max(price_min, low) if low is not None else price_min
        new_max = high if price_max is None else min(price_max, high) if high is not None else price_max
        wants_stock = item.kind == "in_stock"
        if (new_min is not None and new_max is not None and new_min > new_max) or (wants_stock and in_stock is False):
            out.append(dataclasses.replace(item, applied="relaxed"))
            continue
        price_min, price_max = new_min, new_max
        in_stock = True if wants_stock else in_stock
        out.append(dataclasses.replace(item, applied="filter"))
    merged = dataclasses.replace(current, price_min=price_min, price_max=price_max, in_stock=in_stock)
    if merged == current:
        return base, tuple(out)
    return merged, tuple(out)


def _bounds(item: Understood) -> tuple[float | None, float | None]:
    if item.kind == "price_max" and isinstance(item.value, (int, float)):
        return None, float(item.value)
    if item.kind == "price_min" and isinstance(item.value, (int, float)):
        return float(item.value), None
    if item.kind == "price_range" and isinstance(item.value, dict):
        low, high = item.value.get("min"), item.value.get("max")
        return (
            float(low) if isinstance(low, (int, float)) else None,
            float(high) if isinstance(high, (int, float)) else None,
        )
    return None, None


def boost_factor(
    constraints: Sequence[Understood], payload: Mapping[str, JSONValue], reference_price: float | None
) -> float:
    """How much a hit's score is multiplied by for the boost constraints (1.0: unchanged).

    Voltage and size: :data:`ATTRIBUTE_BOOST` when the hit's attributes hold the asked value (an attribute
    may hold one value or a list). Cheap: up to :data:`CHEAP_BOOST` more for a hit at half the
    ``reference_price`` (the searcher passes the median price of the candidates in the hit's category)
    or less, as much less at twice it or more.
    """
    factor = 1.0
    attributes = payload.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    for item in constraints:
        if item.applied != "boost":
            continue
        if item.kind == "voltage" and _voltage_matches(str(item.value), attributes, payload):
            factor *= ATTRIBUTE_BOOST
        elif item.kind == "size" and _size_matches(str(item.value), attributes):
            factor *= ATTRIBUTE_BOOST
        elif item.kind == "cheap":
            price = payload.get("price")
            if isinstance(price, (int, float)) and price > 0 and reference_price:
                factor *= 1 + CHEAP_BOOST * max(-1.0, min(1.0, math.log2(reference_price / price)))
    return factor


def _values(value: Any) -> list[str]:
    """An attribute's values: a scalar, or each element of a list."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in items if item is not None and not isinstance(item, (dict, list))]


def _folded_key(key: object) -> str:
    return _fold_same_length(str(key))


def _voltage_matches(wanted: str, attributes: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    texts = [
        v
        for key, value in attributes.items()
        if any(k in _folded_key(key) for k in _VOLTAGE_KEYS)
        for v in _values(value)
    ]
    if not texts:  # no voltage attribute: the name may say it ("Cafeteira 30 Xicaras 110V")
        texts = [str(payload.get("name", ""))]
    offered: set[str] = set()
    for text in texts:
        for match in _VALUE_VOLTAGE.finditer(_fold_same_length(text)):
            offered.add(_VOLTAGE_GROUP[match.group(1)] if match.group(1) else "bivolt")
    if wanted == "bivolt":
        return "bivolt" in offered
    return bool(offered & {_VOLTAGE_GROUP.get(wanted.rstrip("V"), wanted), "bivolt"})


def _size_matches(wanted: str, attributes: Mapping[str, Any]) -> bool:
    for key, value in attributes.items():
        if not any(k in _folded_key(key) for k in _SIZE_KEYS):
            continue
        for text in _values(value):
            if _size_in(wanted, _fold_same_length(text).upper()):
                return True
    return False


def _size_in(wanted: str, value: str) -> bool:
    """Whether one size value (``"G"``, ``"M (54-58 cm)"``, ``"39/40"``, ``"39-43"``, ``"Grande"``) holds ``wanted``."""
    head = value.split("(")[0].strip()
    if _SIZE_ALIASES.get(head, head) == wanted:
        return True
    tokens = [token for token in re.split(r"[^0-9A-Z.]+", head) if token]
    if wanted.replace(".", "").isdigit():
        number = float(wanted)
        numbers = [float(token) for token in tokens if re.fullmatch(r"\d+(?:\.\d+)?", token)]
        if number in numbers:
            return True
        span = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", head)
        return bool(span and float(span.group(1)) <= number <= float(span.group(2)))
    return any(_SIZE_ALIASES.get(token, token) == wanted for token in tokens)
