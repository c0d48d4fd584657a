"""Business rules: a document kind of their own, valid for a period, searched by passage.

A rule (opening hours, delivery, payment, returns, warranty, pick-up, a promotion, an FAQ answer...)
is stored in the tenant's store next to the products, in its own collection (kind ``rule``).
Import format, one JSON object per line::

    {"id": "promo-natal", "type": "promotion", "title": "Natal: 15% off em brinquedos",
     "content": "<p>Cupom NATAL15...</p>", "valid_from": "2026-11-20", "valid_to": "2026-12-24",
     "question": null, "products": ["p0264"], "categories": ["Brinquedos"], "company_id": 1,
     "coupon_code": "NATAL15", "priority": 20, "tags": ["natal"]}

``id``, ``type`` and ``title`` are required. ``content`` may hold HTML: it is reduced to its
visible text (scripts and styles dropped). Validity bounds are ISO dates or datetimes, or null
for an open end; both ends are inclusive, a date as ``valid_to`` lasts to the end of that day.
Dates and datetimes without a time zone are read in the time zone the caller names
(``tz``, default UTC); aware datetimes are taken as they are.

The text (title, question, content) is analysed in the tenant's language. Content is cut into
passages at sentence boundaries, each at most :data:`PASSAGE_CHARS` characters and each
carrying the rule's title, so a long rule is found by the passage that answers the question;
a search returns one hit per rule, with its best passage as the excerpt.

Validity is enforced when searching, by a filter inside every retrieval stage (the stored
payload keeps both ends as seconds since the epoch, open ends as far-away sentinels), so
nothing is reindexed when time passes: a rule is returned only while it is valid at the
moment ``at`` of the search, unless the caller asks for inactive rules too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Literal, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import Settings
from .documents import MAX_ID_LENGTH, MAX_INTEGER, read_jsonl
from .embeddings import Embedder
from .enrich import strip_html
from .exceptions import DocumentError, InvalidInputError, QueryError
from .index import Progress, SearchIndex
from .store import VectorStore
from .store.base import category_key
from .types import Document, Filters

__all__ = [
    "RULE_KIND",
    "RULE_TYPES",
    "Rule",
    "RuleHit",
    "RuleHitDict",
    "RuleIndex",
    "RuleLoadReport",
    "RuleSearchResult",
    "load_rules",
    "parse_moment",
    "rule_from_dict",
    "split_passages",
    "timezone_named",
]

RULE_KIND = "rule"
RULE_TYPES = ("hours", "delivery", "payment", "returns", "warranty", "pickup", "promotion", "faq", "other")
#: Longest passage, in characters (a sentence longer than this is cut at a word boundary). The same
#: as the excerpt, so the excerpt is the whole passage that matched; on the labelled sample 300
#: scored as well as 200 or 400 and better than 600 (README, "Business rules (library)").
PASSAGE_CHARS = 300
#: Passages indexed per rule; content beyond them (about 30,000 characters) is not searchable.
MAX_PASSAGES = 100
#: Characters of the best passage returned as the excerpt.
EXCERPT_CHARS = 300
#: Stored in place of an open validity end, so one range condition covers every rule.
OPEN_START = -1e15
OPEN_END = 1e15
#: How many passages a search reads per rule it returns (rules with several matching passages).
PASSAGES_PER_HIT = 4
MAX_TITLE_LENGTH = 500
MAX_COUPON_LENGTH = 100
MAX_LINKS = 1000
MAX_TAGS = 100

#: The words of each type in the tenant's language, indexed with the rule so "entrega" finds delivery rules.
TYPE_LABELS: Mapping[str, Mapping[str, str]] = {
    "pt": {
        "hours": "horário de funcionamento e atendimento",
        "delivery": "entrega e frete",
        "payment": "pagamento",
        "returns": "troca e devolução",
        "warranty": "garantia",
        "pickup": "retirada na loja",
        "promotion": "promoção e desconto",
        "faq": "dúvida frequente",
        "other": "informação",
    },
    "en": {
        "hours": "opening hours",
        "delivery": "delivery and shipping",
        "payment": "payment",
        "returns": "returns and exchanges",
        "warranty": "warranty",
        "pickup": "store pick-up",
        "promotion": "promotion and discount",
        "faq": "frequently asked question",
        "other": "information",
    },
}

_KNOWN_KEYS = frozenset(
    {
        "id",
        "type",
        "title",
        "content",
        "valid_from",
        "valid_to",
        "question",
        "products",
        "categories",
        "company_id",
        "coupon_code",
        "priority",
        "tags",
    }
)


@dataclass(frozen=True)
class Rule:
    """One business rule, validated; ``valid_from``/``valid_to`` are aware datetimes or ``None`` (open).

    ``valid_to`` is the last valid moment (a date given as ``valid_to`` becomes the end of that day).
    ``content`` is plain text. Build rules with :func:`rule_from_dict`, which checks every field.
    """

    id: str
    type: str
    title: str
    content: str = ""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    question: str = ""
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    company_id: int | None = None
    coupon_code: str = ""
    priority: int = 0
    tags: tuple[str, ...] = ()

    def status(self, at: datetime) -> Literal["active", "scheduled", "expired"]:
        """Whether the rule is valid at ``at`` (an aware datetime), not started yet, or over."""
        if self.valid_from is not None and at < self.valid_from:
            return "scheduled"
        if self.valid_to is not None and at > self.valid_to:
            return "expired"
        return "active"


def timezone_named(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``"America/Sao_Paulo"``), or :class:`InvalidInputError`."""
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {name!r}", code="bad_timezone") from None


def parse_moment(value: str | date, tz: tzinfo = timezone.utc, *, end_of_day: bool = False) -> datetime:
    """An aware datetime from an ISO date or datetime (string or object).

    Values without a time zone are read in ``tz``. A date means the start of that day, or its last
    microsecond with ``end_of_day``. Raises :class:`InvalidInputError` (``bad_date``) otherwise, for a
    string that is no ISO date and for a value of any other type (it is checked, not trusted).
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{value!r} is not an ISO date or datetime", code="bad_date") from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        if end_of_day:
            return datetime.combine(value + timedelta(days=1), time(), tz) - timedelta(microseconds=1)
        return datetime.combine(value, time(), tz)
    raise InvalidInputError(f"{value!r} is not an ISO date or datetime", code="bad_date")


def rule_from_dict(data: object, *, line: int | None = None, tz: tzinfo = timezone.utc) -> Rule:
    """Validate one record of the rule import format and build a :class:`Rule`.

    ``valid_from``/``valid_to`` may also be ``date`` or ``datetime`` objects (what an Odoo record holds),
    and ``False`` stands for an empty field as Odoo gives it. ``data`` is checked, not trusted: anything
    but a mapping of the known fields is refused. Errors are :class:`DocumentError` with the ``line`` and a ``code``.
    """
    if not isinstance(data, Mapping):
        raise DocumentError("a record must be a JSON object", line=line, code="not_an_object")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise DocumentError(f"unknown field {unknown[0]!r}", line=line, code="unknown_field")
    rule_id = data.get("id")
    if isinstance(rule_id, bool) or not isinstance(rule_id, (str, int)) or not str(rule_id).strip():
        raise DocumentError("'id' is required and must be a non-empty string", line=line, code="missing_id")
    rule_id = str(rule_id).strip()
    # '#' separates a rule's id from its passage number in the store.
    if len(rule_id) > MAX_ID_LENGTH - 4 or "#" in rule_id:
        raise DocumentError(f"'id' {rule_id[:50]!r} is too long or holds '#'", line=line, code="bad_id")
    fields = _Fields(data, rule_id, line)
    rule_type = data.get("type")
    if rule_type not in RULE_TYPES:
        raise fields.fail(f"'type' must be one of {', '.join(RULE_TYPES)}", code="bad_type")
    title = " ".join(fields.text("title", MAX_TITLE_LENGTH).split())
    if not title:
        raise fields.fail("'title' is required", code="missing_title")
    valid_from, valid_to = fields.moment("valid_from", tz), fields.moment("valid_to", tz, end_of_day=True)
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise fields.fail("'valid_to' is before 'valid_from'", code="bad_validity")
    return Rule(
        id=rule_id,
        type=rule_type,
        title=title,
        content=strip_html(fields.text("content")),
        valid_from=valid_from,
        valid_to=valid_to,
        question=strip_html(fields.text("question")),
        products=fields.strings("products", MAX_LINKS),
        categories=fields.strings("categories", MAX_LINKS),
        company_id=fields.integer("company_id", minimum=1),
        coupon_code=fields.text("coupon_code", MAX_COUPON_LENGTH).strip(),
        priority=fields.integer("priority", minimum=-MAX_INTEGER) or 0,
        tags=fields.strings("tags", MAX_TAGS),
    )


class _Fields:
    """Reads the optional fields of one rule record; errors name the rule and the line."""

    def __init__(self, data: Mapping[str, Any], rule_id: str, line: int | None) -> None:
        self.data, self.rule_id, self.line = data, rule_id, line

    def fail(self, message: str, code: str = "bad_field") -> DocumentError:
        return DocumentError(f"rule {self.rule_id!r}: {message}", line=self.line, code=code)

    def _get(self, key: str) -> Any:
        value = self.data.get(key)
        return None if value is False or value == "" else value  # False: an empty Odoo field

    def text(self, key: str, limit: int | None = None) -> str:
        value = self._get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{key!r} must be a string")
        if limit is not None and len(value) > limit:
            raise self.fail(f"{key!r} is longer than {limit} characters")
        return value

    def strings(self, key: str, limit: int) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(item, (str, int)) and not isinstance(item, bool) and str(item).strip() for item in value
        ):
            raise self.fail(f"{key!r} must be a list of non-empty strings")
        if len(value) > limit:
            raise self.fail(f"{key!r} has more than {limit} items")
        return tuple(dict.fromkeys(str(item).strip() for item in value))

    def integer(self, key: str, *, minimum: int) -> int | None:
        value = self._get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INTEGER
        ):
            raise self.fail(f"{key!r} must be an integer" + (" >= 1" if minimum == 1 else ""))
        return value

    def moment(self, key: str, tz: tzinfo, *, end_of_day: bool = False) -> datetime | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            return parse_moment(value, tz, end_of_day=end_of_day)
        except InvalidInputError as exc:
            raise self.fail(f"{key!r}: {exc}", code="bad_date") from None


@dataclass
class RuleLoadReport:
    """What :func:`load_rules` read: the rules, the skipped lines and the repeated ids."""

    rules: list[Rule] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    lines: int = 0


def load_rules(
    path: str | os.PathLike[str], *, on_error: Literal["stop", "skip"] = "stop", tz: tzinfo = timezone.utc
) -> RuleLoadReport:
    """Read and validate a JSON Lines rule file (same line rules and errors as :func:`load_jsonl`)."""

    def parse(data: object, *, line: int) -> Rule:
        return rule_from_dict(data, line=line, tz=tz)

    rules, report = read_jsonl(path, parse, on_error=on_error)
    return RuleLoadReport(rules, report.errors, report.duplicates, report.lines)


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def split_passages(text: str, size: int = PASSAGE_CHARS) -> list[str]:
    """Cut plain text into passages of at most ``size`` characters, at sentence boundaries when possible.

    Sentences are packed greedily; a sentence longer than ``size`` is cut at word boundaries
    (a word longer than ``size`` is cut where the size ends).
    """
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        while len(sentence) > size:
            cut = sentence.rfind(" ", 0, size + 1)
            cut = cut if cut > size // 2 else size
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    passages: list[str] = []
    for piece in pieces:
        if passages and len(passages[-1]) + 1 + len(piece) <= size:
            passages[-1] += " " + piece
        else:
            passages.append(piece)
    return passages


def _epoch(moment: datetime | None, open_value: float) -> float:
    return open_value if moment is None else moment.timestamp()


def _passage_id(rule_id: str, number: int) -> str:
    return f"{rule_id}#{number}"


def _passages(rule: Rule, language: str) -> list[Document]:
    """The documents stored for a rule: one per passage of its content (at least one)."""
    label = TYPE_LABELS.get(language, TYPE_LABELS["pt"])[rule.type]
    texts = split_passages(rule.content)[:MAX_PASSAGES] or [""]
    extra = {
        "rule_id": rule.id,
        "rule_type": rule.type,
        "title": rule.title,
        "question": rule.question,
        "type_label": label,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "valid_from_ts": _epoch(rule.valid_from, OPEN_START),
        "valid_to_ts": _epoch(rule.valid_to, OPEN_END),
        "coupon_code": rule.coupon_code,
        "priority": rule.priority,
        "products": list(rule.products),
        "linked_categories": list(rule.categories),
    }
    return [
        Document(
            id=_passage_id(rule.id, number),
            name=rule.title,
            description=passage,
            tags=rule.tags,
            company_id=rule.company_id,
            kind=RULE_KIND,
            extra={**extra, "passage": number, "text": passage},
        )
        for number, passage in enumerate(texts)
    ]


class _PassageIndex(SearchIndex):
    """A :class:`SearchIndex` whose documents are rule passages (their texts come from the rule's fields)."""

    @staticmethod
    def dense_text(document: Document) -> str:
        # The type's words first ("entrega e frete. ..."): they tell the model what the passage is about.
        extra = document.extra
        parts = (extra["type_label"], document.name, extra["question"], document.description)
        return ". ".join(part for part in parts if part)

    @staticmethod
    def sparse_text(document: Document) -> str:
        extra = document.extra
        parts = (
            document.name,
            document.name,
            extra["question"],
            extra["type_label"],
            extra["coupon_code"],
            " ".join(document.tags),
            document.description,
        )
        return "\n".join(part for part in parts if part)

    @staticmethod
    def typo_text(document: Document) -> str:
        extra = document.extra
        return " ".join(
            part for part in (document.name, extra["question"], extra["coupon_code"], *document.tags) if part
        )

    @staticmethod
    def payload(document: Document) -> dict[str, Any]:
        # Only what rules need; "name", "category" and "tags" feed the typo corrector's vocabulary.
        return {
            **document.extra,
            "doc_id": document.id,
            "name": document.name,
            "kind": document.kind,
            "category": document.extra["type_label"],
            "categories": [category_key(path) for path in document.extra["linked_categories"]],
            "company_id": document.company_id or 0,
            "tags": list(document.tags),
        }


class RuleHitDict(TypedDict):
    """:meth:`RuleHit.as_dict`: a rule hit as JSON (``coupon_code`` is ``None`` when the rule has none)."""

    id: str
    title: str
    type: str
    excerpt: str
    valid_from: str | None
    valid_to: str | None
    status: str
    coupon_code: str | None
    products: list[str]
    categories: list[str]
    priority: int
    score: float
    scores: dict[str, float]


@dataclass(frozen=True)
class RuleHit:
    """One rule found: its fields, the excerpt of its best passage, the fused and per-signal scores.

    ``status`` says whether the rule is ``active`` at the search's moment, ``scheduled`` or
    ``expired`` (the last two only when inactive rules were asked for).
    """

    id: str
    title: str
    type: str
    excerpt: str
    valid_from: str | None
    valid_to: str | None
    status: str
    coupon_code: str
    products: tuple[str, ...]
    categories: tuple[str, ...]
    priority: int
    score: float
    scores: Mapping[str, float]
    passage: int

    def as_dict(self) -> RuleHitDict:
        """A JSON-ready mapping (what an API answers)."""
        return {
            "id": self.id,
            "title": self.title,
            "type": self.type,
            "excerpt": self.excerpt,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "status": self.status,
            "coupon_code": self.coupon_code or None,
            "products": list(self.products),
            "categories": list(self.categories),
            "priority": self.priority,
            "score": round(self.score, 6),
            "scores": {name: round(value, 4) for name, value in self.scores.items()},
        }


@dataclass(frozen=True)
class RuleSearchResult:
    """The rules found for one query, best first, and the moment validity was judged at."""

    query: str
    at: datetime
    hits: tuple[RuleHit, ...]
    took_ms: float
    corrected_query: str | None = None

    def ids(self) -> list[str]:
        return [hit.id for hit in self.hits]


class RuleIndex:
    """Index and search the business rules of one tenant, in the same store as its products.

    Pass the products' ``store`` and ``embedder`` to share them (one embedded store can be open
    only once per process). ``tz`` is the time zone of dates and datetimes given without one.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        tz: tzinfo | str = timezone.utc,
    ) -> None:
        self.tz = timezone_named(tz) if isinstance(tz, str) else tz
        self.language = settings.language
        self.index = _PassageIndex(settings, kind=RULE_KIND, embedder=embedder, store=store)

    def _documents(self, rules: Iterable[Rule]) -> Iterable[Document]:
        for rule in rules:
            if not isinstance(rule, Rule):
                raise InvalidInputError("rules must be Rule objects (see rule_from_dict)", code="bad_rule")
            yield from _passages(rule, self.language)

    def upsert(self, rules: Sequence[Rule]) -> int:
        """Add or replace rules; a rule's passages from before an edit are removed. Returns the rules written."""
        documents = list(self._documents(rules))
        self.index.upsert(documents)
        written = {document.id for document in documents}
        stale = [
            _passage_id(rule.id, number)
            for rule in rules
            for number in range(MAX_PASSAGES)
            if _passage_id(rule.id, number) not in written
        ]
        self.index.delete(stale)
        return len(rules)

    def delete(self, rule_ids: Sequence[str]) -> None:
        """Remove rules by id (unknown ids are ignored)."""
        if isinstance(rule_ids, str):
            raise InvalidInputError("delete() takes a list of rule ids, not one string")
        self.index.delete([_passage_id(str(rule_id), number) for rule_id in rule_ids for number in range(MAX_PASSAGES)])

    def reindex(
        self,
        rules: Iterable[Rule],
        *,
        progress: Progress | None = None,
        total: int | None = None,
        fresh: bool = False,
    ) -> str:
        """Rebuild the tenant's rules (the alias switches when done); returns the collection. As
        :meth:`SearchIndex.reindex`: from a copy of the live collection, or with ``fresh`` from nothing."""
        return self.index.reindex(self._documents(rules), progress=progress, total=total, fresh=fresh)

    def count(self) -> int:
        """Passages stored (a rule has one or more)."""
        return self.index.count()

    def search(
        self,
        query: str,
        *,
        at: datetime | date | str | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
        include_inactive: bool = False,
        company_ids: Sequence[int] | None = None,
        method: str = "hybrid",
    ) -> RuleSearchResult:
        """The rules answering ``query``, one hit per rule, valid at ``at`` (default now).

        ``types`` keeps rules of those types; ``company_ids`` keeps rules of those companies and
        rules of no company; ``include_inactive`` also returns expired and scheduled rules.
        """
        moment = datetime.now(timezone.utc) if at is None else _query_moment(at, self.tz)
        size = self.index.searcher.clean_limit(limit)
        rule_types = _clean_types(types)
        if company_ids is not None and (
            isinstance(company_ids, (str, bytes))
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in company_ids)
        ):
            raise QueryError("company_ids must be a list of positive integers", code="invalid_filter")
        filters = Filters(
            company_ids=tuple(company_ids) if company_ids is not None else None,
            valid_at=None if include_inactive else moment.timestamp(),
            rule_types=rule_types,
        )
        depth = min(self.index.settings.search.max_limit, size * PASSAGES_PER_HIT)
        result = self.index.search(query, limit=depth, method=method, filters=None if filters.is_empty() else filters)
        hits: dict[str, RuleHit] = {}
        for hit in result.hits:
            payload = hit.payload
            rule_id = str(payload["rule_id"])
            if rule_id in hits:
                continue  # a weaker passage of a rule already found
            hits[rule_id] = RuleHit(
                id=rule_id,
                title=str(payload["title"]),
                type=str(payload["rule_type"]),
                excerpt=_excerpt(str(payload.get("text", ""))),
                valid_from=payload.get("valid_from"),
                valid_to=payload.get("valid_to"),
                status=_status(payload, moment.timestamp()),
                coupon_code=str(payload.get("coupon_code") or ""),
                products=tuple(payload.get("products") or ()),
                categories=tuple(payload.get("linked_categories") or ()),
                priority=int(payload.get("priority") or 0),
                score=hit.score,
                scores=hit.scores,
                passage=int(payload.get("passage") or 0),
            )
            if len(hits) == size:
                break
        return RuleSearchResult(result.query, moment, tuple(hits.values()), result.took_ms, result.corrected_query)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> RuleIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _query_moment(at: object, tz: tzinfo) -> datetime:
    if isinstance(at, bool) or not isinstance(at, (str, date)):
        raise QueryError("'at' must be an ISO date or datetime", code="invalid_at")
    try:
        return parse_moment(at, tz)
    except InvalidInputError as exc:
        raise QueryError(f"'at': {exc}", code="invalid_at") from None


def _clean_types(types: Sequence[str] | None) -> tuple[str, ...] | None:
    if types is None:
        return None
    if isinstance(types, str) or not all(isinstance(t, str) for t in types):
        raise QueryError("types must be a list of rule types", code="invalid_filter")
    unknown = sorted(set(types) - set(RULE_TYPES))
    if unknown:
        raise QueryError(f"unknown rule type {unknown[0]!r} (use {', '.join(RULE_TYPES)})", code="invalid_filter")
    return tuple(dict.fromkeys(types)) or None


def _status(payload: Mapping[str, Any], at: float) -> str:
    start = float(payload.get("valid_from_ts", OPEN_START))
    end = float(payload.get("valid_to_ts", OPEN_END))
    if at < start:
        return "scheduled"
    return "expired" if at > end else "active"


def _excerpt(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, EXCERPT_CHARS)
    return text[: cut if cut > EXCERPT_CHARS // 2 else EXCERPT_CHARS].rstrip(" ,;:") + "…"
