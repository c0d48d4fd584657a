"""Sparse vectors: BM25 terms and character n-grams, in Qdrant's sparse format.

:class:`BM25Encoder` follows the scheme of fastembed's ``Qdrant/bm25`` model:
a term's index is ``abs(mmh3.hash(term))`` (signed 32-bit MurmurHash3), a
document's value is the BM25 term-frequency part::

    tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / avg_len))

and a query's value is 1.0 per distinct term. The IDF factor is applied by the
store at query time (Qdrant's ``Modifier.IDF``), so adding documents never
requires re-encoding the others.

:class:`CharNgramEncoder` gives typo tolerance, which Qdrant lacks: words are
cut into padded character trigrams (``#ca cam ami ...``), so ``camizeta`` still
shares most trigrams with ``camiseta``. Document values are ``1/sqrt(n)`` over
the ``n`` distinct trigrams (a short, focused name scores higher than a long
one), queries use 1.0, and IDF again comes from the store.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import mmh3

from .text import Analyzer

__all__ = ["BM25Encoder", "CharNgramEncoder", "SparseVector", "term_id"]


@dataclass(frozen=True)
class SparseVector:
    """Parallel lists of indices (sorted, unique) and values."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.indices)

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.indices, self.values, strict=False))

    @classmethod
    def from_weights(cls, weights: dict[int, float]) -> SparseVector:
        items = sorted(weights.items())
        return cls(tuple(i for i, _ in items), tuple(float(v) for _, v in items))


def term_id(term: str) -> int:
    """The sparse index of ``term``: ``abs(mmh3.hash(term))``, as fastembed's BM25 computes it."""
    return abs(mmh3.hash(term))


class BM25Encoder:
    """Encode texts as BM25 sparse vectors for one language."""

    def __init__(self, analyzer: Analyzer, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 40.0) -> None:
        self.analyzer = analyzer
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    def document_weights(self, terms: list[str]) -> dict[int, float]:
        """BM25 term-frequency weights for an already analysed term list."""
        if not terms:
            return {}
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.avg_len)
        weights: dict[int, float] = {}
        for term, tf in Counter(terms).items():
            index = term_id(term)
            # Two terms hashing to one index: the later one's weight replaces the earlier one's, as
            # fastembed's Bm25._term_frequency does, so both give the same vector for the same terms.
            weights[index] = tf * (self.k1 + 1) / (tf + norm)
        return weights

    def encode_document(self, text: str) -> SparseVector:
        return SparseVector.from_weights(self.document_weights(self.analyzer.terms(text)))

    def encode_query(self, text: str) -> SparseVector:
        return SparseVector.from_weights({term_id(term): 1.0 for term in self.analyzer.terms(text)})


class CharNgramEncoder:
    """Encode texts as sets of padded character n-grams (typo tolerance)."""

    def __init__(self, analyzer: Analyzer, *, n: int = 3) -> None:
        self.analyzer = analyzer
        self.n = n

    def ngrams(self, words: Iterable[str]) -> set[str]:
        grams: set[str] = set()
        n = self.n
        for word in words:
            if len(word) < 2:
                continue
            padded = f"#{word}#"
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    def encode_document(self, text: str) -> SparseVector:
        grams = self.ngrams(self.analyzer.words(text))
        if not grams:
            return SparseVector((), ())
        value = 1.0 / math.sqrt(len(grams))
        return SparseVector.from_weights({term_id("~" + gram): value for gram in grams})

    def encode_query(self, text: str) -> SparseVector:
        return SparseVector.from_weights({term_id("~" + gram): 1.0 for gram in self.ngrams(self.analyzer.words(text))})
