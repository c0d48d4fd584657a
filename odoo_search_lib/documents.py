"""Documents in: the JSON Lines import format, validation, and what gets indexed.

Import format, one JSON object per line::

    {"id": "p1", "name": "Camiseta Básica", "description": "...", "category": "Roupas > Camisetas",
     "attributes": {"Cor": "Preta", "Tamanho": [38, 39, 40]}, "price": 49.9, "in_stock": true,
     "tags": ["algodão"], "company_id": 1}

``id`` and ``name`` are required. An attribute holds a text, a number or a list of texts and numbers
(at most :data:`MAX_ATTRIBUTE_VALUES`, each at most :data:`MAX_ATTRIBUTE_CHARS` characters); numbers
become texts (``38`` and ``38.0`` both ``"38"``). A bad line is reported with its number;
:func:`load_jsonl` either stops at the first one (``on_error="stop"``) or skips
it and goes on (``on_error="skip"``). A repeated id keeps the last record and
is reported.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from .exceptions import DocumentError
from .store.base import ATTRIBUTE_FIELD, attribute_key, category_key
from .types import AttributeValue, Document, JSONValue

__all__ = [
    "LoadReport",
    "attribute_text",
    "attribute_values",
    "check_document",
    "dense_text",
    "document_from_dict",
    "load_jsonl",
    "nests_deeper_than",
    "payload",
    "read_jsonl",
    "sparse_text",
    "typo_text",
]

MAX_LINE_BYTES = 2 * 1024 * 1024
MAX_ID_LENGTH = 200
#: Integers stored in the index are 64-bit.
MAX_INTEGER = 2**63 - 1
MAX_NAME_LENGTH = 1000
#: Characters of the description that reach the sparse index (long texts add noise, not recall).
MAX_DESCRIPTION_CHARS = 20_000
#: Characters of the description that reach the dense embedder. Its cost grows with the text's
#: length while the facts before the description carry most of the meaning: on the labelled sample
#: 60 characters scored as well as 400 (README, "Relevance") at a fraction of the indexing time.
DENSE_DESCRIPTION_CHARS = 60
#: Values one attribute may hold (a template's sizes or colours), and characters per value.
MAX_ATTRIBUTE_VALUES = 200
MAX_ATTRIBUTE_CHARS = 1000
#: ``extra`` values nest at most this deep (a hostile file can nest thousands of levels).
MAX_EXTRA_DEPTH = 32
#: Payload keys the library sets itself: ``extra`` cannot set them (a product without a price must not
#: get one, nor a filterable field of the wrong type, from ``extra``).
RESERVED_EXTRA_KEYS = frozenset(
    {
        "doc_id",
        "name",
        "kind",
        "category",
        "categories",
        "company_id",
        "website_id",
        "in_stock",
        "published",
        "attributes",
        ATTRIBUTE_FIELD,
        "tags",
        "price",
        "currency",
        "content_hash",
    }
)
_KNOWN_KEYS = frozenset(
    {
        "id",
        "name",
        "description",
        "category",
        "attributes",
        "price",
        "currency",
        "in_stock",
        "published",
        "tags",
        "company_id",
        "website_id",
        "kind",
        "extra",
    }
)


class HasId(Protocol):
    @property
    def id(self) -> str: ...


@dataclass
class LoadReport:
    """What :func:`load_jsonl` read: the documents, the skipped lines and the repeated ids."""

    documents: list[Document] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    lines: int = 0


def load_jsonl(path: str | os.PathLike[str], *, on_error: Literal["stop", "skip"] = "stop") -> LoadReport:
    """Read and validate a JSON Lines product file.

    Raises :class:`DocumentError` (with the line number) on the first bad line
    when ``on_error="stop"``, or if the file cannot be read at all.
    """
    records, report = read_jsonl(path, document_from_dict, on_error=on_error)
    report.documents = records
    return report


Record = TypeVar("Record", bound=HasId)


def read_jsonl(
    path: str | os.PathLike[str],
    parse: Callable[..., Record],
    *,
    on_error: Literal["stop", "skip"] = "stop",
) -> tuple[list[Record], LoadReport]:
    """Read a JSON Lines file of records that have an ``id``, each built by ``parse(data, line=n)``.

    The loading rules of :func:`load_jsonl` (line cap, UTF-8, one JSON object per line, errors
    with line numbers, the last of repeated ids wins) for any record type, such as business rules.
    Returns the records and a report of the skipped lines and repeated ids (its ``documents`` empty).
    """
    if on_error not in ("stop", "skip"):
        raise ValueError("on_error must be 'stop' or 'skip'")
    report = LoadReport()
    by_id: dict[str, Record] = {}
    for number, raw in _lines(path):
        report.lines = number
        if not raw.strip():
            continue
        try:
            record = parse(_parse_line(raw, number), line=number)
        except DocumentError as exc:
            if on_error == "stop":
                raise
            report.errors.append(exc)
            continue
        if record.id in by_id:
            report.duplicates.append(record.id)
            del by_id[record.id]  # re-insert so the order follows the last occurrence
        by_id[record.id] = record
    return list(by_id.values()), report


def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from exc
    with handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                # Skip the rest of the oversized line so the next one starts clean.
                while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield number, b"\x00oversized"
                continue
            yield number, raw


def _parse_line(raw: bytes, number: int) -> Any:
    if raw == b"\x00oversized":
        raise DocumentError(f"longer than {MAX_LINE_BYTES} bytes", line=number, code="line_too_long")
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")  # tolerate a byte-order mark
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not valid UTF-8 (byte {exc.start})", line=number, code="not_utf8") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except _NonFiniteNumber as exc:
        raise DocumentError(f"{exc} is not a finite number", line=number, code="non_finite_number") from None
    except ValueError as exc:
        raise DocumentError(f"not valid JSON: {exc}", line=number, code="bad_json") from None
    except RecursionError:
        raise DocumentError("JSON nested too deeply", line=number, code="too_deep") from None
    return data


class _NonFiniteNumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a JSON line (Python's json accepts them; JSON does not)."""


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def document_from_dict(data: object, *, line: int | None = None) -> Document:
    """Validate one record of the import format and build a :class:`Document`."""
    if not isinstance(data, Mapping):
        raise DocumentError("a record must be a JSON object", line=line, code="not_an_object")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise DocumentError(f"unknown field {unknown[0]!r}", line=line, code="unknown_field")
    doc_id = data.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or not str(doc_id).strip():
        raise DocumentError("'id' is required and must be a non-empty string", line=line, code="missing_id")
    doc_id = str(doc_id).strip()
    if len(doc_id) > MAX_ID_LENGTH:
        raise DocumentError(f"'id' is longer than {MAX_ID_LENGTH} characters", line=line, code="bad_id")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DocumentError(f"record {doc_id!r}: 'name' is required", line=line, code="missing_name")
    if len(name) > MAX_NAME_LENGTH:
        raise DocumentError(f"record {doc_id!r}: 'name' is too long", line=line, code="bad_name")

    def text_field(key: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise DocumentError(f"record {doc_id!r}: {key!r} must be a string", line=line, code="bad_field")
        return value

    attributes, tags, price, flags, company_id, website_id, extra = _optional_fields(data, doc_id, line)
    return Document(
        id=doc_id,
        name=name.strip(),
        description=text_field("description"),
        category=text_field("category"),
        attributes=attributes,
        price=float(price) if price is not None else None,
        currency=text_field("currency"),
        in_stock=flags["in_stock"],
        published=flags["published"],
        tags=tuple(tags),
        company_id=company_id,
        kind=text_field("kind") or "product",
        extra=dict(extra),
        website_id=website_id,
    )


def _optional_fields(data: Mapping[str, Any], doc_id: str, line: int | None) -> tuple[Any, ...]:
    """Validate the optional fields of a record (attributes, tags, price, flags, company, extra)."""

    def fail(message: str) -> DocumentError:
        return DocumentError(f"record {doc_id!r}: {message}", line=line, code="bad_field")

    attributes = data.get("attributes")
    attributes = {} if attributes is None else attributes
    if not isinstance(attributes, Mapping):
        raise fail("'attributes' must be an object")
    try:
        attributes = {str(key): _attribute_value(str(key), value, numbers=True) for key, value in attributes.items()}
    except ValueError as exc:
        raise DocumentError(f"record {doc_id!r}: {exc}", line=line, code="bad_attribute") from None
    tags = data.get("tags")
    tags = [] if tags is None else tags
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise fail("'tags' must be a list of strings")
    price = data.get("price")
    if price is not None and (
        isinstance(price, bool) or not isinstance(price, (int, float)) or not _finite(price) or price < 0
    ):
        raise fail("'price' must be a number >= 0")
    flags = {}
    for key in ("in_stock", "published"):
        value = data.get(key, True)
        if not isinstance(value, bool):
            raise fail(f"{key!r} must be true or false")
        flags[key] = value
    company_id, website_id = data.get("company_id"), data.get("website_id")
    for key, value in (("company_id", company_id), ("website_id", website_id)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INTEGER
        ):
            raise fail(f"{key!r} must be a positive integer")
    extra = data.get("extra")
    extra = {} if extra is None else extra
    if not isinstance(extra, Mapping):
        raise fail("'extra' must be an object")
    problem = _extra_problem(extra)
    if problem:
        raise DocumentError(f"record {doc_id!r}: {problem[1]}", line=line, code=problem[0])
    return attributes, tags, price, flags, company_id, website_id, extra


def attribute_text(value: str | int | float) -> str:
    """An attribute value as the index keeps it: texts as they are, whole numbers without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _attribute_value(key: str, value: object, *, numbers: bool) -> AttributeValue:
    """``value`` as a :class:`Document` holds it, or :class:`ValueError` saying what is wrong.

    ``numbers``: numbers are accepted and become texts (the import format); code passes texts.
    """
    kinds = (str, int, float) if numbers else (str,)
    expected = "a text, a number or a list of them" if numbers else "a string or a tuple of strings"

    def one(item: object) -> str:
        if isinstance(item, bool) or not isinstance(item, kinds):
            raise ValueError(f"attribute {key!r} must be {expected}")
        if isinstance(item, float) and not _finite(item):
            raise ValueError(f"attribute {key!r} holds a number that is not finite")
        text = attribute_text(item)  # type: ignore[arg-type]
        if len(text) > MAX_ATTRIBUTE_CHARS:
            raise ValueError(f"attribute {key!r} has a value longer than {MAX_ATTRIBUTE_CHARS} characters")
        return text

    if len(key) > MAX_ATTRIBUTE_CHARS:
        raise ValueError(f"an attribute name is longer than {MAX_ATTRIBUTE_CHARS} characters")
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ATTRIBUTE_VALUES:
            raise ValueError(f"attribute {key!r} holds more than {MAX_ATTRIBUTE_VALUES} values")
        return tuple(one(item) for item in value)
    return one(value)


def attribute_values(document: Document) -> list[str]:
    """Every attribute value of ``document``, lists flattened, in order."""
    values: list[str] = []
    for value in document.attributes.values():
        values.extend(value if isinstance(value, (list, tuple)) else (value,))
    return values


def _extra_problem(extra: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(code, message)`` when ``extra`` cannot be stored as it is, else ``None``."""
    reserved = sorted(str(key) for key in extra if key in RESERVED_EXTRA_KEYS)
    if reserved:
        return "reserved_extra_key", f"'extra' must not set the indexed field {reserved[0]!r}"
    if not all(isinstance(key, str) for key in extra):
        return "bad_field", "'extra' keys must be strings"
    # Depth check first: json.dumps below would recurse on a deep value.
    if nests_deeper_than(extra, MAX_EXTRA_DEPTH):
        return "too_deep", f"'extra' nests deeper than {MAX_EXTRA_DEPTH} levels"
    try:
        json.dumps(dict(extra), allow_nan=False)
    except ValueError:
        return "non_finite_number", "'extra' holds NaN or an infinite number"
    except TypeError:
        return "bad_field", "'extra' must hold JSON values only"
    return None


def nests_deeper_than(value: object, limit: int) -> bool:
    """Whether any part of a decoded JSON value sits more than ``limit`` levels deep (``value`` is level 1).

    Iterative, so a hostile value nested thousands of levels deep cannot exhaust the stack.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children: Iterable[object] = (
            item.values() if isinstance(item, Mapping) else item if isinstance(item, (list, tuple)) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return False


def check_document(document: Document) -> None:
    """Refuse a :class:`Document` built in code with values the index cannot hold.

    Records from files are checked by :func:`document_from_dict`; this guards documents that
    callers (the Odoo addons) build themselves, so a bad one fails with :class:`DocumentError`
    instead of an error from deep inside the store.
    """
    doc_id = document.id
    if not isinstance(doc_id, str) or not doc_id.strip() or len(doc_id) > MAX_ID_LENGTH:
        raise DocumentError(f"document id {doc_id!r} must be a non-empty string", code="bad_id")
    if not isinstance(document.name, str) or not document.name.strip():
        raise DocumentError(f"document {doc_id!r} has no name", code="missing_name")
    texts = [document.description, document.category, document.currency, document.kind, *document.tags]
    if not all(isinstance(text, str) for text in texts):
        raise DocumentError(f"document {doc_id!r}: texts and tags must be strings", code="bad_field")
    if not isinstance(document.attributes, Mapping):
        raise DocumentError(f"document {doc_id!r}: attributes must be a mapping", code="bad_attribute")
    for key, value in document.attributes.items():
        try:
            if not isinstance(key, str):
                raise ValueError(f"attribute name {key!r} must be a string")
            _attribute_value(key, value, numbers=False)
        except ValueError as exc:
            raise DocumentError(f"document {doc_id!r}: {exc}", code="bad_attribute") from None
    if document.price is not None and (
        isinstance(document.price, bool)
        or not isinstance(document.price, (int, float))
        or not _finite(document.price)
        or document.price < 0
    ):
        raise DocumentError(f"document {doc_id!r}: price must be a finite number >= 0", code="bad_field")
    for key, value in (("company_id", document.company_id), ("website_id", document.website_id)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INTEGER
        ):
            raise DocumentError(f"document {doc_id!r}: {key} must be a positive integer", code="bad_field")
    if not isinstance(document.extra, Mapping):
        raise DocumentError(f"document {doc_id!r}: extra must be a mapping", code="bad_field")
    problem = _extra_problem(document.extra)
    if problem:
        raise DocumentError(f"document {doc_id!r}: {problem[1]}", code=problem[0])


def sparse_text(document: Document) -> str:
    """The text BM25 indexes: the name counts twice, then category, attribute values, tags, description.

    Attribute names ("Cor", "Tamanho") are left out: every product has them, and short ones collide
    with stems of unrelated words.
    """
    attributes = " ".join(attribute_values(document))
    return "\n".join(
        part
        for part in (
            document.name,
            document.name,
            " ".join(document.category_path),
            attributes,
            " ".join(document.tags),
            document.description[:MAX_DESCRIPTION_CHARS],
        )
        if part
    )


def dense_text(document: Document) -> str:
    """The text the dense model embeds: the facts first, then the start of the description.

    Attribute values go in without their names ("Preto, 42", not "Cor: Preto, Tamanho: 42"):
    on the labelled sample quality was the same, and the embedder's cost grows with every
    token (20 % more products per second without the names).
    """
    parts = [document.name]
    if document.category_path:
        parts.append(" / ".join(document.category_path))
    if document.attributes:
        parts.append(", ".join(attribute_values(document)))
    if document.tags:
        parts.append(", ".join(document.tags))
    if document.description:
        parts.append(_clip(document.description, DENSE_DESCRIPTION_CHARS))
    return ". ".join(parts)


def typo_text(document: Document) -> str:
    """The short text cut into character n-grams: name, category leaf, attribute values, tags."""
    leaf = document.category_path[-1] if document.category_path else ""
    return " ".join([document.name, leaf, *attribute_values(document), *document.tags])


def payload(document: Document) -> dict[str, JSONValue]:
    """What the store keeps next to the vectors (filters and display fields, no long text)."""
    path = document.category_path
    result: dict[str, JSONValue] = {
        **{key: value for key, value in document.extra.items() if key not in RESERVED_EXTRA_KEYS},
        "name": document.name,
        "kind": document.kind,
        "category": " > ".join(path),
        "categories": [category_key(" > ".join(path[: depth + 1])) for depth in range(len(path))],
        "company_id": document.company_id or 0,
        "website_id": document.website_id or 0,
        "in_stock": int(document.in_stock),
        "published": int(document.published),
        "attributes": {
            key: list(value) if isinstance(value, (list, tuple)) else value
            for key, value in document.attributes.items()
        },
        # One keyword per attribute value, which attribute filters match (``Filters.attributes``).
        ATTRIBUTE_FIELD: sorted(
            {
                attribute_key(key, item)
                for key, value in document.attributes.items()
                for item in (value if isinstance(value, (list, tuple)) else (value,))
            }
        ),
        "tags": list(document.tags),
    }
    if document.price is not None:
        result["price"] = document.price
    if document.currency:
        result["currency"] = document.currency
    return result


def _finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a float
        return False


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit]
