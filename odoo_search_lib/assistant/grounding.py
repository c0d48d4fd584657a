"""The grounding check: every amount, percentage, number, date and coupon code of a reply must
come from a record the reply cites.

Facts are gathered from the cited products (name, attributes, price, variants' names and
prices, all read live) and rules (title, text, dates, percent, minimum amount, code). A few
values are derived from them, because the assistant states them: the price after a cited
rule's percentage discount. Numbers are compared by value whatever their format (``1.299,90``,
``1,299.90``, ``1299.9``). This check is used on the LLM's answers (a failure sends the offline
answer instead) and by ``eval-chat`` on every reply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .ports import ProductInfo, Rule

__all__ = ["Facts", "Unsupported", "unsupported_claims"]

_MONEY = re.compile(r"(?:R\$|US\$|\$|BRL|USD)\s?(\d[\d.,]*\d|\d)")
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s?%")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.,])(\d[\d.,]*\d|\d)(?![\d])")
_CODE = re.compile(r"\b([A-Z][A-Z0-9_-]{2,23}[0-9][A-Z0-9]*|[A-Z]{2,}[0-9]{1,4}[A-Z]*)\b")
_UNIT_OR_MODEL = re.compile(r"\d+[A-Z]{1,3}|[A-Z]{1,3}\d+")


@dataclass(frozen=True)
class Unsupported:
    kind: str  # money, percent, date, number, code
    text: str


def amounts(raw: str) -> set[float]:
    """Every plausible value of a number written pt- or en-style (``1.299`` gives 1.299 and 1299)."""
    raw = raw.strip(".,")
    values: set[float] = set()
    if not raw:
        return values
    for decimal, thousands in ((",", "."), (".", ",")):
        head, sep, tail = raw.rpartition(decimal)
        if sep and thousands not in tail and tail.isdigit():
            whole = head.replace(thousands, "")
            if whole.isdigit():
                values.add(round(float(f"{whole}.{tail}"), 2))
        plain = raw.replace(thousands, "")
        if plain.isdigit():
            values.add(float(plain))
    return values


@dataclass
class Facts:
    """The values a reply may state, gathered from the records it cites."""

    money: set[float] = field(default_factory=set)
    numbers: set[float] = field(default_factory=set)
    percents: set[float] = field(default_factory=set)
    dates: set[tuple[int, int, int | None]] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, products: Iterable[ProductInfo], rules: Iterable[Rule]) -> Facts:
        facts = cls()
        products, rules = list(products), list(rules)
        prices: set[float] = set()
        for product in products:
            facts._text(product.name, product.category, *product.attributes.values())
            if product.price is not None:
                prices.add(round(product.price, 2))
            for variant in product.variants:
                facts._text(variant.name, *variant.options.values())
                if variant.price is not None:
                    prices.add(round(variant.price, 2))
        facts.money |= prices
        facts.numbers |= prices
        for rule in rules:
            facts._text(rule.title, rule.text)
            if rule.code:
                facts.codes.add(rule.code.upper())
            for day in (rule.valid_from, rule.valid_until):
                if day is not None:
                    facts._date(day)
            if rule.min_amount is not None:
                facts.money.add(round(rule.min_amount, 2))
                facts.numbers.add(round(rule.min_amount, 2))
            if rule.percent is not None:
                facts.percents.add(round(rule.percent, 2))
                facts.numbers.add(round(rule.percent, 2))
                for price in prices:  # the discounted price the assistant states
                    facts.money.add(round(price * (1 - rule.percent / 100), 2))
        return facts

    def _date(self, day: dt.date) -> None:
        self.dates.update({(day.day, day.month, day.year), (day.day, day.month, None)})

    def _text(self, *texts: str) -> None:
        for text in texts:
            for match in _MONEY.finditer(text):
                self.money |= amounts(match.group(1))
            for match in _PERCENT.finditer(text):
                self.percents |= amounts(match.group(1))
            for match in _DATE.finditer(text):
                day = _parse_date(match)
                if day is not None:
                    self.dates.update({day, (day[0], day[1], None)})
            for match in _NUMBER.finditer(text):
                self.numbers |= amounts(match.group(1))
            for match in _CODE.finditer(text):
                self.codes.add(match.group(1))


def _parse_date(match: re.Match[str]) -> tuple[int, int, int | None] | None:
    if match.group(4):
        day, month, year = int(match.group(6)), int(match.group(5)), int(match.group(4))
    else:
        day, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
        if year is not None and year < 100:
            year += 2000
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return day, month, year


def unsupported_claims(text: str, facts: Facts) -> list[Unsupported]:
    """Every amount, percentage, date, number and coupon-like code of ``text`` that ``facts`` lack."""
    found: list[Unsupported] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= start or span[0] >= end for start, end in taken)

    for match in _MONEY.finditer(text):
        taken.append(match.span())
        if not _close(amounts(match.group(1)), facts.money):
            found.append(Unsupported("money", match.group(0)))
    for match in _PERCENT.finditer(text):
        taken.append(match.span())
        if not _close(amounts(match.group(1)), facts.percents | facts.numbers):
            found.append(Unsupported("percent", match.group(0)))
    for match in _DATE.finditer(text):
        if not free(match.span()):
            continue
        taken.append(match.span())
        day = _parse_date(match)
        if day is None or (day not in facts.dates and (day[0], day[1], None) not in facts.dates):
            found.append(Unsupported("date", match.group(0)))
    for match in _NUMBER.finditer(text):
        if free(match.span()) and not _close(amounts(match.group(1)), facts.numbers | facts.money):
            found.append(Unsupported("number", match.group(0)))
    for match in _CODE.finditer(text):
        token = match.group(1)
        if not _UNIT_OR_MODEL.fullmatch(token) and token not in facts.codes:
            found.append(Unsupported("code", token))
    return found


def _close(values: set[float], known: set[float]) -> bool:
    return any(abs(value - other) < 0.006 for value in values for other in known)
