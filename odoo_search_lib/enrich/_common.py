"""Small text and value helpers shared by the description modules."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import InvalidInputError

_WS_RE = re.compile(r"\s+")


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
