"""A per-hit match confidence: how likely a hit is what the query asked for.

Fused scores only order hits: an RRF score says where a hit ranked, not whether
anything matched, so the best hit of "pneu de caminhão" in a clothes shop scores
like the best hit of "camiseta preta". A caller that must say "we do not sell
that" (the sales assistant) needs a number with a meaning. This one is a
logistic model over two signals that keep their meaning from query to query:

- ``dense``: the raw cosine similarity of the query and the hit (0 when the hit
  was not among the dense signal's candidates);
- ``coverage``: the share of the query's index terms (stemmed, stopwords
  dropped) found in the hit's short text (name, category, attribute values,
  tags), so "cafeteira inox" against "Cafeteira ... Preta" covers one term of two.

``confidence = 1 / (1 + exp(-(b0 + b1 * dense + b2 * coverage)))``, a probability
in ``[0, 1]``. The coefficients (one set per language) were fitted by logistic regression on the
labelled sample (``data/sample_queries.tsv`` and ``sample_qrels.tsv``: every
top-10 hit of every query, relevant when its grade is at least 1) with the
default embedder; ``bench/calibrate_confidence.py`` reproduces them and prints
how well they separate. Another embedder has other cosines: re-run it then.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence

from .text import Analyzer
from .types import Hit, JSONValue

__all__ = [
    "COEFFICIENTS",
    "LANGUAGE_COEFFICIENTS",
    "PADDING_FLOOR",
    "PADDING_RATIO",
    "hit_terms",
    "match_confidence",
    "payload_attribute_values",
    "term_coverage",
    "without_padding",
]

#: ``(b0, b_dense, b_coverage)`` fitted by ``bench/calibrate_confidence.py`` on the Portuguese sample.
COEFFICIENTS = (-2.711, 4.463, 2.909)
#: Per language: the same model's cosines mean less in English (Home Depot's searches, 4,000 hits:
#: with the Portuguese coefficients log loss 0.69 and precision 0.55 at 0.5; refitted 0.59 and 0.69),
#: so each language has its own fit and term coverage weighs more in English.
LANGUAGE_COEFFICIENTS = {"pt": COEFFICIENTS, "en": (-3.168, 1.19, 3.89)}


def payload_attribute_values(payload: Mapping[str, JSONValue]) -> Iterator[str]:
    """The attribute values of a stored payload, lists flattened (``{"Tamanho": ["38", "39"]}`` gives both).

    ``attributes`` counts when it is an object (what the store writes); anything else gives none.
    """
    attributes = payload.get("attributes")
    for value in attributes.values() if isinstance(attributes, Mapping) else ():
        yield from map(str, value) if isinstance(value, list) else (str(value),)


def hit_terms(payload: Mapping[str, JSONValue], analyzer: Analyzer) -> set[str]:
    """The index terms of a hit's short text: name, category path, attribute values, tags.

    ``tags`` counts when it is a list (what the store writes).
    """
    tags = payload.get("tags")
    values = payload_attribute_values(payload)
    tag_list = tags if isinstance(tags, (list, tuple)) else ()
    parts = [str(payload.get("name", "")), str(payload.get("category", ""))]
    text = " ".join([*parts, *values, *map(str, tag_list)])
    return set(analyzer.terms(text))


def term_coverage(query_terms: Collection[str], terms: Collection[str]) -> float:
    """The share of ``query_terms`` present in ``terms`` (0 for a query without terms)."""
    if not query_terms:
        return 0.0
    return sum(1 for term in query_terms if term in terms) / len(query_terms)


def match_confidence(dense: float, coverage: float, coefficients: tuple[float, float, float] = COEFFICIENTS) -> float:
    """The calibrated probability that a hit with this cosine and term coverage matches the query."""
    b0, b_dense, b_coverage = coefficients
    z = b0 + b_dense * dense + b_coverage * coverage
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


#: :func:`without_padding`'s defaults, chosen on the labelled sample's 215 queries (top 50 hits each,
#: ``bench/README.md``): 83 % of the relevant hits kept, 89 % of the others dropped, no labelled
#: query left empty; an absolute cut alone at 0.2 empties 10 queries that have relevant products.
PADDING_FLOOR = 0.1
PADDING_RATIO = 0.5


def without_padding(
    hits: Sequence[Hit], *, floor: float = PADDING_FLOOR, ratio: float = PADDING_RATIO
) -> tuple[Hit, ...]:
    """``hits`` without the padding a results page should not show, in their order.

    A hit stays when its confidence is at least ``floor`` and at least ``ratio`` times the best
    hit's: a query the catalogue answers well keeps its good hits only, and a synonym or use-case
    query, whose hits all score lower, keeps its best ones instead of being emptied.
    """
    best = max((hit.confidence for hit in hits), default=0.0)
    bar = max(floor, ratio * best)
    return tuple(hit for hit in hits if hit.confidence >= bar)
