"""Tests of odoo_search_lib.sparse: fastembed-compatible BM25 term ids and weights, character n-grams."""

from __future__ import annotations

import math
from collections import Counter

import mmh3
import pytest

from odoo_search_lib.sparse import BM25Encoder, CharNgramEncoder, SparseVector, term_id
from odoo_search_lib.text import Analyzer

PT = Analyzer("pt")


def _fastembed_id(term: str) -> int:
    # fastembed's Qdrant/bm25 model: abs() of the signed 32-bit MurmurHash3 with seed 0.
    return abs(mmh3.hash(term, 0, signed=True))


@pytest.mark.parametrize("term", ["camiset", "promoca", "128gb", "a", "", "~#ca", "ção"])
def test_term_id_is_abs_signed_murmur3(term: str) -> None:
    assert term_id(term) == _fastembed_id(term)
    assert 0 <= term_id(term) <= 2**31


def test_term_id_known_values() -> None:
    # A negative raw hash is made positive (fastembed keeps the magnitude).
    assert mmh3.hash("w90930") == -297462920
    assert term_id("w90930") == 297462920


def test_sparse_vector_from_weights_sorts() -> None:
    vector = SparseVector.from_weights({9: 1, 2: 0.5, 5: 2})
    assert vector.indices == (2, 5, 9)
    assert vector.values == (0.5, 2.0, 1.0)
    assert all(isinstance(value, float) for value in vector.values)
    assert len(vector) == 3
    assert vector.as_dict() == {2: 0.5, 5: 2.0, 9: 1.0}


def test_bm25_document_values_match_formula() -> None:
    encoder = BM25Encoder(PT, k1=1.2, b=0.75, avg_len=4.0)
    text = "Bola azul, bola de futebol; bola!"
    # Analysed by hand: "de" is a stopword, stems of bola/azul/futebol.
    terms = PT.terms(text)
    assert len(terms) == 5
    assert Counter(terms) == {PT.terms("bola")[0]: 3, PT.terms("azul")[0]: 1, PT.terms("futebol")[0]: 1}
    k1, b, avg_len, doc_len = 1.2, 0.75, 4.0, 5
    expected = {
        _fastembed_id(term): tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / avg_len))
        for term, tf in Counter(terms).items()
    }
    vector = encoder.encode_document(text)
    assert vector.as_dict() == pytest.approx(expected, rel=1e-12)
    # Spot-check one value with literal arithmetic: tf=3, norm = 1.2 * (0.25 + 0.75 * 1.25) = 1.425.
    assert vector.as_dict()[_fastembed_id(PT.terms("bola")[0])] == pytest.approx(3 * 2.2 / (3 + 1.425))


def test_bm25_longer_documents_weigh_a_term_less() -> None:
    encoder = BM25Encoder(PT)
    short = encoder.encode_document("camiseta azul").as_dict()
    long = encoder.encode_document("camiseta azul " + " ".join(f"palavra{i}" for i in range(60))).as_dict()
    key = term_id(PT.terms("camiseta")[0])
    assert long[key] < short[key]


def test_bm25_indices_sorted_and_unique() -> None:
    vector = BM25Encoder(PT).encode_document("camiseta azul camiseta vermelha calça azul 128GB promoção " * 3)
    assert list(vector.indices) == sorted(set(vector.indices))
    assert len(vector.indices) == len(vector.values)
    assert all(value > 0 for value in vector.values)


def test_bm25_query_values_all_one_and_unique() -> None:
    vector = BM25Encoder(PT).encode_query("camiseta camisetas azul Azul de algodão")
    assert vector.values == (1.0, 1.0, 1.0)
    assert list(vector.indices) == sorted(set(vector.indices))
    assert set(vector.indices) == {term_id(PT.terms(word)[0]) for word in ("camiseta", "azul", "algodao")}


def test_bm25_query_and_document_share_indices() -> None:
    encoder = BM25Encoder(PT)
    document = encoder.encode_document("Câmera fotográfica em promoção")
    query = encoder.encode_query("camera promocao")
    assert set(query.indices) <= set(document.indices)


@pytest.mark.parametrize("text", ["", "   ", "de para com", "!!!"])
def test_bm25_empty_text_gives_empty_vector(text: str) -> None:
    encoder = BM25Encoder(PT)
    for vector in (encoder.encode_document(text), encoder.encode_query(text)):
        assert vector == SparseVector((), ())
        assert len(vector) == 0


def test_bm25_hash_collisions_match_fastembed() -> None:
    """Colliding terms give the vector fastembed's own BM25 code gives (the later term's weight wins)."""
    from types import SimpleNamespace

    from fastembed.sparse.bm25 import Bm25

    # "w30181" and "w38066" share a MurmurHash3 value; "w90930" and "w122127" differ only in sign.
    assert mmh3.hash("w30181") == mmh3.hash("w38066")
    assert mmh3.hash("w90930") == -mmh3.hash("w122127")
    encoder = BM25Encoder(PT, k1=1.2, b=0.75, avg_len=4.0)
    terms = ["w30181", "w38066", "w38066", "w90930", "w122127", "bola"]
    reference = SimpleNamespace(k=1.2, b=0.75, avg_len=4.0, compute_token_id=Bm25.compute_token_id)
    expected = Bm25._term_frequency(reference, terms)  # fastembed's code, without loading its model files
    assert encoder.document_weights(terms) == pytest.approx(expected, rel=1e-12)
    assert encoder.document_weights([]) == {}


def test_char_ngrams_are_padded_trigrams() -> None:
    encoder = CharNgramEncoder(PT)
    assert encoder.ngrams(["cami"]) == {"#ca", "cam", "ami", "mi#"}
    assert encoder.ngrams(["ab"]) == {"#ab", "ab#"}
    assert encoder.ngrams(["x"]) == set()  # single letters carry no signal
    assert CharNgramEncoder(PT, n=2).ngrams(["abc"]) == {"#a", "ab", "bc", "c#"}


def test_char_document_values_are_inverse_sqrt_of_gram_count() -> None:
    encoder = CharNgramEncoder(PT)
    vector = encoder.encode_document("Camiseta")
    grams = {"#ca", "cam", "ami", "mis", "ise", "set", "eta", "ta#"}
    assert set(vector.indices) == {term_id("~" + gram) for gram in grams}
    assert vector.values == pytest.approx([1 / math.sqrt(8)] * 8)
    assert list(vector.indices) == sorted(set(vector.indices))


def test_char_ngrams_use_folded_unstemmed_words_without_stopwords() -> None:
    encoder = CharNgramEncoder(PT)
    assert encoder.encode_query("de Açaí") == encoder.encode_query("acai")
    assert encoder.encode_query("camisetas") != encoder.encode_query("camiseta")


def test_char_ngram_ids_do_not_collide_with_bm25_words() -> None:
    # The "~" prefix keeps a trigram such as "cam" apart from a BM25 term "cam".
    assert term_id("~cam") != term_id("cam")
    chars = CharNgramEncoder(PT).encode_query("cam")
    assert term_id("cam") not in chars.indices


def test_char_query_values_are_one() -> None:
    vector = CharNgramEncoder(PT).encode_query("camiseta azul")
    assert len(vector) == 8 + 4  # "#camiseta#" and "#azul#"
    assert set(vector.values) == {1.0}


def test_typo_shares_most_trigrams() -> None:
    encoder = CharNgramEncoder(PT)
    typo = set(encoder.encode_query("camizeta").indices)
    right = set(encoder.encode_document("camiseta").indices)
    shared = len(typo & right) / len(right)
    assert shared >= 0.5
    assert shared == 5 / 8  # "#ca", "cam", "ami", "eta", "ta#"


def test_char_empty_text_gives_empty_vector() -> None:
    encoder = CharNgramEncoder(PT)
    assert encoder.encode_document("") == SparseVector((), ())
    assert encoder.encode_document("a e o") == SparseVector((), ())
    assert encoder.encode_query("") == SparseVector((), ())
