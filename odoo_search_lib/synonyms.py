"""Synonyms applied at query time, as Typesense, Meilisearch and Algolia define them.

A :class:`SynonymSet` is either

- multi-way, ``{"synonyms": ["geladeira", "refrigerador"]}``: a query with any of the
  terms also searches all the others; or
- one-way, ``{"root": "tenis", "synonyms": ["sapatilha", "calcado esportivo"]}``: a
  query with the root also searches the synonyms, never the reverse (for a hypernym
  or a use case: whoever asks for "tênis" may like a sapatilha, not the other way).

Terms may be phrases. They are matched on the analyzer's stems (accents and case
folded, stopwords dropped, Snowball-stemmed), so ``Geladeiras`` matches ``geladeira``
and ``roupa de frio`` matches ``roupas para o frio``. The longest phrase wins where
two overlap. Nothing is written into the index: changing the sets takes effect at the
next search.

:class:`Synonyms` is the compiled form the searcher uses. A built-in pt-BR and
English retail list (``data/synonyms_<language>.json``) is merged in unless turned
off; it is read once per process, on first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .exceptions import ConfigError
from .text import Analyzer

__all__ = [
    "MAX_SETS",
    "MAX_TERMS_PER_SET",
    "MAX_TERM_CHARS",
    "Expansion",
    "SynonymSet",
    "Synonyms",
    "builtin_sets",
]

#: At most this many sets per tenant (custom ones; the built-in list does not count).
MAX_SETS = 10_000
#: At most this many terms in one set.
MAX_TERMS_PER_SET = 64
#: At most this many characters in one term.
MAX_TERM_CHARS = 64
#: Phrases longer than this many words (after stopwords) are refused: the matcher tries each length.
MAX_PHRASE_WORDS = 6


@dataclass(frozen=True)
class SynonymSet:
    """One set of synonyms: multi-way without ``root``, one-way (root -> synonyms) with it."""

    synonyms: tuple[str, ...]
    root: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.synonyms, str) or not isinstance(self.synonyms, (list, tuple)):
            raise ConfigError("synonyms must be a list of terms", code="invalid_synonyms")
        object.__setattr__(self, "synonyms", tuple(self.synonyms))
        terms = [*self.synonyms, *([] if self.root is None else [self.root])]
        for term in terms:
            if not isinstance(term, str):
                raise ConfigError(f"synonym {term!r} is not a text", code="invalid_synonyms")
            if len(term) > MAX_TERM_CHARS:
                raise ConfigError(
                    f"synonym {term[:20]!r}... is longer than {MAX_TERM_CHARS} characters", code="synonym_too_long"
                )
            if not term.strip():
                raise ConfigError("a synonym is empty", code="empty_synonym")
        if len(self.synonyms) > MAX_TERMS_PER_SET:
            raise ConfigError(
                f"a synonym set has {len(self.synonyms)} terms (at most {MAX_TERMS_PER_SET})",
                code="too_many_synonyms",
            )
        needed = 1 if self.root is not None else 2
        if len({term.strip().casefold() for term in self.synonyms} - {(self.root or "").strip().casefold()}) < needed:
            raise ConfigError(
                "a one-way set needs a root and at least one other synonym"
                if self.root is not None
                else "a multi-way set needs at least two different synonyms",
                code="empty_synonym_set",
            )

    @classmethod
    def from_dict(cls, mapping: object) -> SynonymSet:
        """``{"synonyms": [...], "root": "..."}`` (``root`` optional); bad input raises :class:`ConfigError`."""
        if isinstance(mapping, SynonymSet):
            return mapping
        if not isinstance(mapping, Mapping):
            raise ConfigError("a synonym set must be a mapping with 'synonyms'", code="invalid_synonyms")
        unknown = sorted(set(mapping) - {"synonyms", "root"}, key=str)
        if unknown:
            raise ConfigError(
                f"unknown synonym set key {unknown[0]!r} (known: root, synonyms)", code="invalid_synonyms"
            )
        if "synonyms" not in mapping:
            raise ConfigError("a synonym set needs 'synonyms'", code="invalid_synonyms")
        root = mapping.get("root")
        if root is not None and not isinstance(root, str):
            raise ConfigError("a synonym set's root must be a text", code="invalid_synonyms")
        return cls(mapping["synonyms"], root)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"synonyms": list(self.synonyms)}
        if self.root is not None:
            data["root"] = self.root
        return data


def parse_sets(raw: object) -> tuple[SynonymSet, ...]:
    """A list of mappings (or :class:`SynonymSet`) as sets, capped at :data:`MAX_SETS`."""
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable) or isinstance(raw, Mapping):
        raise ConfigError("synonym sets must be a list", code="invalid_synonyms")
    sets: list[SynonymSet] = []
    for position, item in enumerate(raw):
        if len(sets) >= MAX_SETS:
            raise ConfigError(f"more than {MAX_SETS} synonym sets", code="too_many_synonym_sets")
        try:
            sets.append(SynonymSet.from_dict(item))
        except ConfigError as exc:
            raise ConfigError(f"synonym set {position + 1}: {exc.message}", code=exc.code) from None
    return tuple(sets)


@dataclass(frozen=True)
class Expansion:
    """Query words that matched a synonym (``phrase``, folded) and what they also search."""

    phrase: str
    alternatives: tuple[str, ...]


Phrase = tuple[str, ...]


class Synonyms:
    """Compiled synonym sets of one language: which query phrases expand to which."""

    def __init__(self, analyzer: Analyzer, rules: Mapping[Phrase, Mapping[Phrase, str]]) -> None:
        self.analyzer = analyzer
        # stems of a phrase -> {stems of an alternative: its folded words, as text}
        self._rules = rules
        self._longest = max((len(key) for key in rules), default=0)

    @classmethod
    def build(cls, sets: Iterable[SynonymSet | Mapping[str, object]], language: str, builtin: bool = True) -> Synonyms:
        """Compile ``sets`` (custom ones), plus the built-in list of ``language`` when ``builtin``."""
        analyzer = _analyzer(language)
        custom = parse_sets(sets)
        rules: dict[Phrase, dict[Phrase, str]] = {}
        if builtin:
            for key, alternatives in _builtin_rules(language).items():
                rules[key] = dict(alternatives)
        _compile(custom, analyzer, rules)
        return cls(analyzer, rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def expand(self, query: str) -> tuple[Expansion, ...]:
        """The synonyms of ``query``'s phrases, left to right, longest match first; each phrase once.

        Alternatives already in the query are left out.
        """
        if not self._rules:
            return ()
        words = self.analyzer.words(query)
        stems = [self.analyzer.stem(word) for word in words]
        present = set(stems)
        found: dict[str, Expansion] = {}
        position = 0
        while position < len(stems):
            for length in range(min(self._longest, len(stems) - position), 0, -1):
                key = tuple(stems[position : position + length])
                alternatives = self._rules.get(key)
                if alternatives is None:
                    continue
                phrase = " ".join(words[position : position + length])
                new = tuple(text for alt, text in alternatives.items() if not set(alt) <= present)
                if new and phrase not in found:
                    found[phrase] = Expansion(phrase, new)
                position += length - 1
                break
            position += 1
        return tuple(found.values())

    def words(self) -> frozenset[str]:
        """Every folded word the sets contain (stopwords dropped): known vocabulary for typo correction."""
        words: set[str] = set()
        for alternatives in self._rules.values():
            for text in alternatives.values():
                words.update(text.split())
        return frozenset(words)


@cache
def _analyzer(language: str) -> Analyzer:
    return Analyzer(language)


def _compile(sets: Iterable[SynonymSet], analyzer: Analyzer, rules: dict[Phrase, dict[Phrase, str]]) -> None:
    for entry in sets:
        terms = [_phrase(term, analyzer) for term in entry.synonyms]
        sources = terms if entry.root is None else [_phrase(entry.root, analyzer)]
        for source_stems, _ in sources:
            targets = rules.setdefault(source_stems, {})
            for stems, text in terms:
                if stems != source_stems:
                    targets.setdefault(stems, text)


def _phrase(term: str, analyzer: Analyzer) -> tuple[Phrase, str]:
    """A term's stems and folded words; a term of stopwords only, or longer than
    :data:`MAX_PHRASE_WORDS` words, raises :class:`ConfigError`."""
    words = analyzer.words(term)
    if not words:
        raise ConfigError(f"synonym {term!r} has no searchable word", code="empty_synonym")
    if len(words) > MAX_PHRASE_WORDS:
        raise ConfigError(f"synonym {term!r} has more than {MAX_PHRASE_WORDS} words", code="synonym_too_long")
    return tuple(analyzer.stem(word) for word in words), " ".join(words)


@cache
def builtin_sets(language: str) -> tuple[SynonymSet, ...]:
    """The built-in retail list of ``language`` (read once per process)."""
    if language not in ("pt", "en"):
        return ()
    text = resources.files("odoo_search_lib").joinpath(f"data/synonyms_{language}.json").read_text("utf-8")
    return parse_sets(json.loads(text))


@cache
def _builtin_rules(language: str) -> Mapping[Phrase, Mapping[Phrase, str]]:
    rules: dict[Phrase, dict[Phrase, str]] = {}
    _compile(builtin_sets(language), _analyzer(language), rules)
    return rules
