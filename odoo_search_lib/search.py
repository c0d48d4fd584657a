"""Hybrid search: encode the query once, retrieve per signal, fuse, explain.

Each signal (``dense``, ``bm25``, ``chars``) is one retrieval stage with the
filters applied inside it, and the stages run as one batch in the store.
Fusion happens here rather than in the store so that every hit can say what
each signal scored (``Hit.scores``) and so both backends rank identically:

- ``rrf``: ``sum(w_s / (k + rank_s))``, Reciprocal Rank Fusion (weights
  default to 1 for dense and BM25, 0.5 for the typo signal);
- ``dbsf``: Distribution-Based Score Fusion, each signal's scores mapped from
  ``mean ± 3 std`` (sample standard deviation) onto ``[0, 1]`` exactly as Qdrant
  does, then a weighted sum (all weights 1 give Qdrant's DBSF scores);
- ``weighted``: each signal's scores divided by its best score, then a
  weighted sum.

Misspellings: a query word is unknown only when neither a dictionary of the
tenant's language or English (:class:`~odoo_search_lib.words.WordList`), nor
the caller's known words (synonyms), nor any document of the tenant has it:
the typo signal runs first, together with one single-term BM25 probe per word
the dictionaries lack, and the probes ignore the caller's filters (``capa`` is
a word even for a company that sells no phone cases). An unknown word is
replaced, for the dense and BM25 signals only, by the closest word (one or two
edits) among the typo signal's best hits, so ``camizeta`` is embedded as
``camiseta``. The query is still encoded once per signal, and
``SearchResult.corrected_query`` says what was searched. Embedding the
corrected text ranked better on the labelled sample than embedding the
original, their mean, or both as two dense signals (bench/README.md).

Constraints in the query (``search.understand``, on by default; :mod:`odoo_search_lib.understand`):
budgets and stock wishes become filters intersected with the caller's, and are dropped (``relaxed``)
with one more round trip when they leave no hit; voltage, size and "cheap" reorder a few more hits
than asked for. The signals search the query without those words; ``SearchResult.understood`` says
what was read and how it was used.

Ties are broken by the best single-signal rank, then by document id, so the
same query always returns the same order.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np

from .cache import TwoLevelCache, cache_key
from .confidence import LANGUAGE_COEFFICIENTS, hit_terms, match_confidence, payload_attribute_values, term_coverage
from .config import FUSIONS, SIGNALS, SearchSettings
from .documents import MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTE_VALUES, attribute_text
from .embeddings import Embedder, fingerprint
from .exceptions import ConfigError, QueryError
from .priority import searching
from .sparse import BM25Encoder, CharNgramEncoder, SparseVector, term_id
from .store.base import ScoredPoint, SignalQuery, VectorStore
from .synonyms import Expansion, Synonyms
from .text import fold
from .types import Filters, Hit, SearchResult
from .understand import ParsedQuery, Understood, boost_factor, merge_filters, parse_query
from .words import WordList

__all__ = [
    "METHODS",
    "HybridSearcher",
    "adaptive_weights",
    "correct_words",
    "edit_distance",
    "fuse",
    "parse_filters",
    "parse_min_confidence",
]

#: How many of the typo signal's best hits supply the words a misspelling may be corrected to.
CORRECTION_HITS = 30
#: Characters of each of those hits that are read for words: name, category leaf and tags first, then
#: attribute values until the budget is spent. Products with thousands of attributes otherwise made a
#: misspelled query re-tokenise megabytes (bench/wide_products.py).
CORRECTION_CHARS_PER_HIT = 2000
#: Shorter words are never corrected (too many near neighbours).
MIN_CORRECTED_LENGTH = 4
#: With a voltage, size or "cheap" boost, this many times the asked number of hits (at least
#: ``BOOST_POOL_MIN``, at most the prefetch depth) are fused and reordered before the cut.
BOOST_POOL_FACTOR = 3
BOOST_POOL_MIN = 30
#: How many of BM25's best hits are read to measure how much of the query the catalogue spells out.
COVERAGE_HITS = 3

METHODS = ("hybrid", "bm25", "dense")
#: The BM25 query weight of a synonym's terms (the query's own terms weigh 1).
SYNONYM_WEIGHT = 0.5


class HybridSearcher:
    """Search one collection of a store with dense, BM25 and typo signals."""

    def __init__(
        self,
        store: VectorStore,
        collection: Callable[[], str],
        embedder: Embedder,
        bm25: BM25Encoder,
        chars: CharNgramEncoder,
        settings: SearchSettings | None = None,
        cache: TwoLevelCache | None = None,
        synonyms: Synonyms | None = None,
        *,
        words: WordList | None = None,
        known_words: Iterable[str] = (),
    ) -> None:
        self.store = store
        #: Replaced as a whole (``SearchIndex.set_synonyms``); a search reads it once.
        self.synonyms = synonyms
        self._collection = collection
        self.embedder = embedder
        self.cache = cache
        self._model = fingerprint(embedder)
        self.bm25 = bm25
        self.chars = chars
        self.settings = settings or SearchSettings().for_language(bm25.analyzer.language)
        self._coefficients = LANGUAGE_COEFFICIENTS[bm25.analyzer.language]
        # Real words are never corrected: the tenant's language and English (customers mix them).
        self.words = words if words is not None else WordList((bm25.analyzer.language, "en"))
        self.known_words: frozenset[str] = frozenset()
        self.set_known_words(known_words)

    def set_known_words(self, texts: Iterable[str]) -> None:
        """Words typo correction never rewrites, besides the catalogue's and the dictionaries' (synonyms, say).

        ``texts`` are words or phrases; they are folded and split like queries. Replaces the previous set.
        """
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            raise ConfigError("known words must be a list of strings", code="invalid_known_words")
        words: set[str] = set()
        for text in texts:
            if not isinstance(text, str):
                raise ConfigError(f"known words must be strings, not {type(text).__name__}", code="invalid_known_words")
            words.update(self.chars.analyzer.words(text))
        self.known_words = frozenset(words)

    def clean_query(self, query: object) -> str:
        """Validate and cap a query: strings only, not blank, at most ``max_query_chars``."""
        if not isinstance(query, str):
            raise QueryError("the query must be a string")
        # Lone surrogates (legal in JSON, and what undecodable bytes in argv become) would crash
        # the tokenizers: replace them.
        query = " ".join(query.encode("utf-8", "replace").decode("utf-8").split())
        if not query:
            raise QueryError("the query is empty", code="empty_query")
        return query[: self.settings.max_query_chars]

    def clean_limit(self, limit: object) -> int:
        """``None`` gives the default; anything else is clamped into ``1..max_limit``."""
        if limit is None:
            return self.settings.default_limit
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise QueryError("limit must be an integer", code="invalid_limit")
        return max(1, min(limit, self.settings.max_limit))

    def clean_min_confidence(self, value: object) -> float:
        """``None`` gives ``search.min_confidence``; anything else must be a number from 0 to 1."""
        parsed = parse_min_confidence(value)
        return self.settings.min_confidence if parsed is None else parsed

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        method: str = "hybrid",
        filters: Filters | None = None,
        fusion: str | None = None,
        min_confidence: float | None = None,
    ) -> SearchResult:
        """The best ``limit`` hits of ``query``; hits below ``min_confidence`` (0..1) are dropped."""
        with searching():  # the builds of this process step aside meanwhile
            return self._search(query, limit, method, filters, fusion, min_confidence)

    def _search(
        self,
        query: str,
        limit: int | None,
        method: str,
        filters: Filters | None,
        fusion: str | None,
        min_confidence: float | None,
    ) -> SearchResult:
        started = time.perf_counter()
        text = self.clean_query(query)
        size = self.clean_limit(limit)
        floor = self.clean_min_confidence(min_confidence)
        if method not in METHODS:
            raise QueryError(f"unknown method {method!r} (use one of {', '.join(METHODS)})", code="invalid_method")
        if floor > 0 and method == "bm25":
            # the confidence rests on the dense cosine, which a bm25-only search has not got: the
            # setting's default does not apply, a caller's cut-off is refused rather than emptying
            if min_confidence is not None:
                raise QueryError(
                    "min_confidence needs the dense signal: use the hybrid or dense method",
                    code="invalid_min_confidence",
                )
            floor = 0.0
        fusion = fusion or self.settings.fusion
        if fusion not in FUSIONS:
            raise QueryError(f"unknown fusion {fusion!r} (use rrf, dbsf or weighted)", code="invalid_fusion")
        weights = {signal: float(self.settings.weights.get(signal, 0.0)) for signal in SIGNALS}
        if method != "hybrid":
            weights = {signal: float(signal == method) for signal in SIGNALS}
        depth = max(self.settings.prefetch, size)
        parsed = parse_query(text, self.bm25.analyzer.language) if self.settings.understand else ParsedQuery(text)
        searched, understood = merge_filters(filters, parsed.constraints)
        boosts = [item for item in understood if item.applied == "boost"]
        # Boosts reorder a few more hits than are returned: the ones they lift come from just below the cut.
        pool = min(depth, max(size * BOOST_POOL_FACTOR, BOOST_POOL_MIN)) if boosts else size
        collection = self._collection()
        adaptive = method == "hybrid"  # per-query weights (adaptive_weights) for the hybrid search only
        ranked, corrected, query_terms, equivalents = self._ranked(
            collection, parsed.text, weights, depth, pool, fusion, searched, adaptive
        )
        if not ranked and searched is not filters:
            # The parsed filters left nothing: never answer empty because of them (one more round trip).
            ranked, corrected, query_terms, equivalents = self._ranked(
                collection, parsed.text, weights, depth, pool, fusion, filters, adaptive
            )
            understood = tuple(
                dataclasses.replace(item, applied="relaxed") if item.applied == "filter" else item
                for item in understood
            )
        # Payloads for the final hits only (one read); a point deleted meanwhile is dropped.
        payloads = self.store.payloads(collection, [hit.id for hit in ranked]) if ranked else {}
        ranked = [hit for hit in ranked if hit.id in payloads]
        if boosts:
            ranked = _boosted(ranked, payloads, boosts, size)
        hits = tuple(
            Hit(
                payloads[hit.id]["doc_id"],
                hit.score,
                hit.scores,
                payloads[hit.id],
                self._confidence(query_terms, hit.scores, payloads[hit.id], equivalents),
            )
            for hit in ranked
        )
        if floor > 0:
            hits = tuple(hit for hit in hits if hit.confidence >= floor)
        return SearchResult(
            text,
            method,
            hits,
            (time.perf_counter() - started) * 1000,
            corrected if corrected != parsed.text else None,
            understood,
        )

    def _ranked(
        self,
        collection: str,
        text: str,
        weights: Mapping[str, float],
        depth: int,
        size: int,
        fusion: str,
        filters: Filters | None,
        adaptive: bool,
    ) -> tuple[list[Hit], str, set[str], list[tuple[frozenset[str], frozenset[str]]]]:
        """The best ``size`` fused hits (keyed by point id) for ``text``, the text the signals searched,
        its stems and its (phrase stems, synonym stems) pairs (:meth:`_equivalents`)."""
        results: dict[str, list[ScoredPoint]] = {}
        corrected = text
        synonyms = self.synonyms
        expanded = synonyms.expand(text) if synonyms else ()
        if weights["chars"] > 0:
            # Typo signal first: its hits also tell which unknown words are misspellings of known ones.
            chars_vector = self.chars.encode_query(text)
            if len(chars_vector):
                # A word with synonyms is a word of the language, not a typo, even if the catalogue lacks it.
                known = {word for found in expanded for word in found.phrase.split()}
                candidates, probes = (
                    self._unknown_word_probes(text, known) if weights["dense"] > 0 or weights["bm25"] > 0 else (0, [])
                )
                chars_stage = SignalQuery("chars", chars_vector, depth, with_payload=False)
                # The probes search every product the caller may see, whatever else it filters on
                # (category, price, stock, company: "capa" is a word even for a company that sells
                # no phone cases), but never what it may not see (unpublished, another website's):
                # a word of an unpublished product must not be told apart from a typo.
                visible = _visibility(filters)
                if visible is None or visible == filters or not probes:
                    probe_stages = [dataclasses.replace(probe, filtered=visible is not None) for _, probe in probes]
                    batch = self.store.query(collection, [chars_stage, *probe_stages], filters)
                    found_words = batch[1:]
                else:  # one more round trip, for a query with a word no dictionary knows
                    batch = self.store.query(collection, [chars_stage], filters)
                    probe_stages = [dataclasses.replace(probe, filtered=True) for _, probe in probes]
                    found_words = self.store.query(collection, probe_stages, visible)
                results["chars"] = batch[0]
                unknown = [word for (word, _), found in zip(probes, found_words, strict=True) if not found]
                if unknown:
                    top = [point.point_id for point in batch[0][:CORRECTION_HITS]]
                    vocabulary = _vocabulary(self.store.payloads(collection, top).values(), self.chars)
                    corrected = correct_words(text, unknown, vocabulary, candidates)
        expansions = synonyms.expand(corrected) if synonyms and corrected != text else expanded
        stages: list[SignalQuery] = []
        if weights["dense"] > 0:
            stages.append(
                SignalQuery("dense", self._query_vector(dense_query(corrected, expansions)), depth, with_payload=False)
            )
        if weights["bm25"] > 0:
            vector = self._bm25_query(corrected, expansions)
            if len(vector):
                stages.append(SignalQuery("bm25", vector, depth, with_payload=False))
        if stages:
            for stage, points in zip(stages, self.store.query(collection, stages, filters), strict=True):
                results[stage.using] = points
        # The query's stems and synonym pairs, for the per-query weights here and the hits' confidence.
        query_terms = set(self.bm25.analyzer.terms(corrected))
        equivalents = self._equivalents(expansions)
        boost = self.settings.coverage_boost
        if adaptive and boost > 0 and weights["dense"] > 0 and weights["bm25"] > 0:
            best = [point.point_id for point in results.get("bm25", ())[:COVERAGE_HITS]]
            found = self.store.payloads(collection, best).values() if best else ()
            coverage = max(
                (term_coverage(query_terms, self._covered(payload, equivalents)) for payload in found), default=0.0
            )
            weights = adaptive_weights(weights, coverage, boost)
        ranked = fuse(results, weights, fusion=fusion, rrf_k=self.settings.rrf_k, limit=size)
        return ranked, corrected, query_terms, equivalents

    def _confidence(
        self,
        query_terms: set[str],
        scores: Mapping[str, float],
        payload: Mapping[str, Any],
        equivalents: Sequence[tuple[frozenset[str], frozenset[str]]] = (),
    ) -> float:
        terms = self._covered(payload, equivalents)
        return match_confidence(scores.get("dense", 0.0), term_coverage(query_terms, terms), self._coefficients)

    def _covered(
        self, payload: Mapping[str, Any], equivalents: Sequence[tuple[frozenset[str], frozenset[str]]]
    ) -> set[str]:
        """The query terms a hit may cover: its own terms, plus the stems of each query phrase one of
        whose synonyms it holds whole ("isopor" is covered by a "caixa térmica")."""
        terms = hit_terms(payload, self.bm25.analyzer)
        for phrase, alternative in equivalents:
            if alternative <= terms:
                terms |= phrase
        return terms

    def _equivalents(self, expansions: Sequence[Expansion]) -> list[tuple[frozenset[str], frozenset[str]]]:
        """(stems of a query phrase, stems of one of its synonyms) pairs."""
        analyzer = self.bm25.analyzer
        return [
            (frozenset(analyzer.terms(found.phrase)), frozenset(analyzer.terms(alternative)))
            for found in expansions
            for alternative in found.alternatives
        ]

    def _bm25_query(self, text: str, expansions: Sequence[Expansion]) -> SparseVector:
        """The BM25 query of ``text``, plus its synonyms' terms at :data:`SYNONYM_WEIGHT` (OR semantics)."""
        weights = {
            term_id(term): SYNONYM_WEIGHT
            for found in expansions
            for alt in found.alternatives
            for term in self.bm25.analyzer.terms(alt)
        }
        weights.update({term_id(term): 1.0 for term in self.bm25.analyzer.terms(text)})
        return SparseVector.from_weights(weights)

    def _query_vector(self, text: str) -> np.ndarray:
        """The dense vector of a query, from the cache when this model has embedded it before."""
        if self.cache is None:
            return self.embedder.embed_query(text)
        key = cache_key("query-vector", self._model, text)
        vector = self.cache.get_vector(key)
        if vector is None or vector.shape != (self.embedder.dim,):
            vector = self.embedder.embed_query(text)
            self.cache.set_vector(key, vector)
        return vector

    def _unknown_word_probes(self, text: str, known: Iterable[str] = ()) -> tuple[int, list[tuple[str, SignalQuery]]]:
        """How many words of ``text`` could be typos, and a probe for each that no dictionary knows.

        A probe is a single-term BM25 query (limit 1) over the whole collection, whatever the
        caller's filters: an empty answer means no document of the tenant has the word. ``known``
        words (the query's synonyms) are never probed.
        """
        candidates = 0
        probes = []
        for word in dict.fromkeys(self.chars.analyzer.words(text)):
            if len(word) < MIN_CORRECTED_LENGTH or not word.isalpha():
                continue
            candidates += 1
            if word not in self.known_words and word not in self.words and word not in known:
                vector = SparseVector((term_id(self.bm25.analyzer.stem(word)),), (1.0,))
                probes.append((word, SignalQuery("bm25", vector, 1, with_payload=False, filtered=False)))
        return candidates, probes


def _visibility(filters: Filters | None) -> Filters | None:
    """The part of ``filters`` that says what the caller may see: publication, website, kind."""
    if filters is None or (filters.published is None and filters.website_id is None and filters.kind is None):
        return None
    return Filters(published=filters.published, website_id=filters.website_id, kind=filters.kind)


def _boosted(
    ranked: Sequence[Hit], payloads: Mapping[str, Mapping[str, Any]], boosts: Sequence[Understood], size: int
) -> list[Hit]:
    """The best ``size`` of ``ranked`` once each hit's score is multiplied by its boost (ties keep their order).

    "Cheap" compares each price with the median price of the candidates of the same category, so a
    cheaper notebook rises among notebooks and a mouse pad is not lifted above them for being cheap.
    """
    prices: dict[str, list[float]] = {}
    for hit in ranked:
        price = payloads[hit.id].get("price")
        if isinstance(price, (int, float)) and not isinstance(price, bool) and price > 0:
            prices.setdefault(str(payloads[hit.id].get("category", "")), []).append(float(price))
    # a category with one priced candidate has nothing to be cheaper than
    references = {category: sorted(values)[len(values) // 2] for category, values in prices.items() if len(values) > 1}
    scored = [
        (
            hit.score
            * boost_factor(boosts, payloads[hit.id], references.get(str(payloads[hit.id].get("category", "")))),
            position,
            hit,
        )
        for position, hit in enumerate(ranked)
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [dataclasses.replace(hit, score=score) for score, _, hit in scored[:size]]


def dense_query(text: str, expansions: Sequence[Expansion]) -> str:
    """What the dense model embeds: the query, then the first synonym of each matched phrase
    (``geladeira frost free refrigerador``).

    One synonym each, not all: on the labelled sample, every synonym of a hypernym's long
    one-way list diluted the vector (dense nDCG@10 0.836 against 0.842 with the first one).
    """
    first = [found.alternatives[0] for found in expansions]
    return " ".join([text, *first])


def adaptive_weights(weights: Mapping[str, float], coverage: float, boost: float) -> dict[str, float]:
    """Per-query weights: BM25 counts more when its best hits hold the query's words, the dense model when not.

    ``coverage`` (0..1) is the share of the query's terms found in the best of BM25's first hits
    (:data:`COVERAGE_HITS`); the dense weight is multiplied by ``1 + boost * (1 - coverage)`` and
    BM25's by ``1 + boost * coverage``; the typo signal keeps its weight. A query whose words the
    catalogue spells out ("drill bit 1/4") is a lexical match; one it lacks ("something to keep
    the dog warm") is a matter of meaning.
    """
    adapted = dict(weights)
    adapted["dense"] = weights.get("dense", 0.0) * (1 + boost * (1 - coverage))
    adapted["bm25"] = weights.get("bm25", 0.0) * (1 + boost * coverage)
    return adapted


def parse_min_confidence(value: object) -> float | None:
    """A confidence cut-off from user input: ``None``, or a number from 0 to 1 (JSON numbers; not booleans).

    Anything else (a string, a boolean, NaN, a value out of range) raises :class:`QueryError` with
    the code ``invalid_min_confidence``, so an API can answer 400 before it touches the index.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise QueryError(f"min_confidence must be a number from 0 to 1 (got {value!r})", code="invalid_min_confidence")
    return float(value)


def _vocabulary(payloads: Iterable[Mapping[str, Any]], chars: CharNgramEncoder) -> dict[str, int]:
    """Words of the typo signal's best hits (name, category leaf, tags, attribute values), with counts.

    At most :data:`CORRECTION_CHARS_PER_HIT` characters of each hit are tokenised.
    """
    counts: dict[str, int] = {}
    for payload in payloads:
        leaf = str(payload.get("category", "")).rsplit(">", 1)[-1]
        parts: list[str] = []
        budget = CORRECTION_CHARS_PER_HIT
        for part in chain(
            [str(payload.get("name", "")), leaf], payload.get("tags") or (), payload_attribute_values(payload)
        ):
            text = str(part)[:budget]
            parts.append(text)
            budget -= len(text) + 1
            if budget <= 0:
                break
        for word in chars.analyzer.words(" ".join(parts)):
            counts[word] = counts.get(word, 0) + 1
    return counts


def correct_words(text: str, unknown: Sequence[str], vocabulary: Mapping[str, int], candidates: int) -> str:
    """Replace each unknown word of ``text`` by its closest vocabulary word, if one is close enough.

    The rules follow common spell-checker practice (Lucene's DirectSpellChecker, for one):

    - the first letter must match (people rarely mistype it, and it stops ``drill`` becoming ``grill``);
    - one edit for words up to 8 letters, two beyond (insertion, deletion, substitution, transposition);
    - when several words are unknown and they make up half or more of the ``candidates`` (the query's
      words long enough to be corrected), the query is most likely in another language (``secador
      de pelo`` in an English shop): nothing is corrected and the multilingual dense model does the work.

    Among equally close words the most frequent wins, then the alphabetically first, so corrections
    are deterministic. Words are compared folded.
    """
    if not unknown or not vocabulary or (len(unknown) >= 2 and 2 * len(unknown) >= candidates):
        return text
    replacements: dict[str, str] = {}
    for word in unknown:
        budget = 1 if len(word) <= 8 else 2
        best: tuple[int, int, str] | None = None
        for candidate, count in vocabulary.items():
            if candidate[0] != word[0] or abs(len(candidate) - len(word)) > budget or not candidate.isalpha():
                continue
            distance = edit_distance(word, candidate, budget)
            if distance <= budget and (best is None or (distance, -count, candidate) < best):
                best = (distance, -count, candidate)
        if best is not None and best[0] > 0:
            replacements[word] = best[2]
    if not replacements:
        return text
    return re.sub(r"\w+", lambda match: replacements.get(fold(match.group()), match.group()), text)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def fuse(
    results: Mapping[str, Sequence[ScoredPoint]],
    weights: Mapping[str, float],
    *,
    fusion: str = "rrf",
    rrf_k: int = 60,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse per-signal result lists (best first) into one ranked list of hits (the best ``limit``).

    Hits are keyed by the points' ids (``Hit.id`` is the point id here; the searcher swaps in
    the document id once it has read the final hits' payloads). Only the returned hits are
    built: a search fuses a few hundred candidates to keep ten.
    """
    if fusion not in FUSIONS:
        raise QueryError(f"unknown fusion {fusion!r} (use rrf, dbsf or weighted)", code="invalid_fusion")
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    by_signal: dict[str, dict[str, ScoredPoint]] = {}
    for signal, points in results.items():
        weight = weights.get(signal, 0.0)
        by_signal[signal] = {point.point_id: point for point in points}
        ranks = _tied_ranks(points)
        if fusion == "rrf":
            contributions = [weight / (rrf_k + rank + 1) for rank in ranks]
        else:
            normalise = _normaliser(fusion, [point.score for point in points])
            contributions = [weight * normalise(point.score) for point in points]
        for rank, point, contribution in zip(ranks, points, contributions, strict=True):
            key = point.point_id
            fused[key] = fused.get(key, 0.0) + contribution
            if rank < best_rank.get(key, rank + 1):
                best_rank[key] = rank

    def order(key: str) -> tuple[float, int, str]:
        return (-round(fused[key], 12), best_rank[key], key)

    keys = sorted(fused, key=order) if limit is None else heapq.nsmallest(limit, fused, key=order)
    hits = []
    for key in keys:
        found = [(signal, points[key]) for signal, points in by_signal.items() if key in points]
        hits.append(Hit(key, fused[key], {signal: point.score for signal, point in found}, found[0][1].payload))
    return hits


def _tied_ranks(points: Sequence[ScoredPoint]) -> list[int]:
    """Competition ranks: equal scores share the rank of the first of them.

    The engine orders equal scores as its segments happen to lie, so ranks taken from list
    positions would make the fused order (and its tie-break) depend on the store's layout.
    """
    ranks: list[int] = []
    for position, point in enumerate(points):
        tied = position and point.score == points[position - 1].score
        ranks.append(ranks[-1] if tied else position)
    return ranks


def _normaliser(fusion: str, scores: list[float]) -> Callable[[float], float]:
    if not scores:
        return lambda score: 0.0
    if fusion == "weighted":
        top = max(scores)
        return (lambda score: score / top) if top > 0 else (lambda score: 0.0)
    # Qdrant's DBSF, as its server and qdrant-client's local mode compute it: sample variance (n - 1),
    # 0.5 for a single score or no spread, and no clamping (an outlier may score above 1).
    if len(scores) == 1:
        return lambda score: 0.5
    mean = sum(scores) / len(scores)
    variance = sum((score - mean) ** 2 for score in scores) / (len(scores) - 1)
    if variance == 0:
        return lambda score: 0.5
    low, high = mean - 3 * math.sqrt(variance), mean + 3 * math.sqrt(variance)
    return lambda score: (score - low) / (high - low)


_FILTER_FIELDS = (
    "category",
    "price_min",
    "price_max",
    "in_stock",
    "published",
    "company_id",
    "website_id",
    "kind",
    "attributes",
)
#: Attributes one filter may name.
MAX_FILTER_ATTRIBUTES = 20


def parse_filters(raw: Mapping[str, object] | None) -> Filters | None:
    """Build :class:`Filters` from user input (a JSON object, or ``key=value`` strings from a CLI).

    Unknown fields and values of the wrong type raise :class:`QueryError`
    naming the field, so an API can answer 400 with a precise message.
    """
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise QueryError("filters must be an object", code="invalid_filter")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _FILTER_FIELDS:
            raise QueryError(
                f"unknown filter field {key!r} (known: {', '.join(_FILTER_FIELDS)})", code="unknown_filter"
            )
        if value is None:
            continue
        if key in ("category", "kind"):
            if not isinstance(value, str) or not value.strip() or len(value) > 500:
                raise QueryError(f"filter {key!r} must be a non-empty string", code="invalid_filter")
            values[key] = value.strip()
        elif key in ("price_min", "price_max"):
            values[key] = _number(key, value)
        elif key in ("in_stock", "published"):
            values[key] = _flag(key, value)
        elif key == "website_id":
            values[key] = _integer(key, value)
        elif key == "attributes":
            values[key] = _attributes(value)
        else:
            ids = value if isinstance(value, (list, tuple)) else [value]
            values["company_ids"] = tuple(_integer(key, item) for item in ids)
    if values.get("price_min") is not None and values.get("price_max") is not None:
        if values["price_min"] > values["price_max"]:
            raise QueryError("price_min is greater than price_max", code="invalid_filter")
    return Filters(**values)


def _number(key: str, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise QueryError(f"filter {key!r} must be a number", code="invalid_filter") from None
    if not math.isfinite(number) or number < 0:
        raise QueryError(f"filter {key!r} must be a finite number >= 0", code="invalid_filter")
    return number


def _attributes(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{"Tamanho": ["38", 39], "Cor": "preto"}`` as :attr:`Filters.attributes` pairs."""
    if not isinstance(raw, Mapping) or not raw:
        raise QueryError("filter 'attributes' must be an object of attribute names and values", code="invalid_filter")
    if len(raw) > MAX_FILTER_ATTRIBUTES:
        raise QueryError(
            f"filter 'attributes' names more than {MAX_FILTER_ATTRIBUTES} attributes", code="invalid_filter"
        )
    pairs = []
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_ATTRIBUTE_CHARS:
            raise QueryError("filter 'attributes' has an empty or too long attribute name", code="invalid_filter")
        items = value if isinstance(value, (list, tuple)) else [value]
        if not items or len(items) > MAX_ATTRIBUTE_VALUES:
            raise QueryError(
                f"filter attribute {name!r} needs 1 to {MAX_ATTRIBUTE_VALUES} values", code="invalid_filter"
            )
        texts = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise QueryError(f"filter attribute {name!r} takes texts or numbers", code="invalid_filter")
            if isinstance(item, float) and not math.isfinite(item):
                raise QueryError(f"filter attribute {name!r} holds a number that is not finite", code="invalid_filter")
            text = attribute_text(item).strip()
            if not text or len(text) > MAX_ATTRIBUTE_CHARS:
                raise QueryError(f"filter attribute {name!r} has an empty or too long value", code="invalid_filter")
            texts.append(text)
        pairs.append((name.strip(), tuple(texts)))
    return tuple(pairs)


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise QueryError(f"filter {key!r} must be true or false", code="invalid_filter")


def _integer(key: str, value: Any) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise QueryError(f"filter {key!r} must be an integer", code="invalid_filter") from None
    if not 1 <= number <= 2**63 - 1:
        raise QueryError(f"filter {key!r} must be a positive integer", code="invalid_filter")
    return number
