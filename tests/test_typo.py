"""Safe typo correction: valid words are never rewritten, misspellings of catalogue words still are."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from odoo_search_lib import ConfigError, Document, Filters, Settings, parse_filters
from odoo_search_lib.documents import load_jsonl, sparse_text, typo_text
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.search import HybridSearcher
from odoo_search_lib.text import Analyzer, fold
from odoo_search_lib.words import WordList
from tests.conftest import HashingEmbedder

PRODUCTS = load_jsonl(Path(str(resources.files("odoo_search_lib") / "data" / "sample_products.jsonl"))).documents
VALID_WORDS = [
    line.strip()
    for line in (Path(__file__).parent / "fixtures" / "valid_words.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
#: Misspelt queries of the labelled sample (odoo_search_lib/data/sample_queries.tsv) and what they mean.
MISSPELLINGS = [
    ("camizeta", "camiseta"),
    ("fone bluetoth", "fone bluetooth"),
    ("geladera", "geladeira"),
    ("notbook", "notebook"),
    ("liquidificadr", "liquidificador"),
    ("perfume fminino", "perfume feminino"),
    ("bisicleta aro 29", "bicicleta aro 29"),
    ("smartwath", "smartwatch"),
    ("maquiagen", "maquiagem"),
    ("travisseiro", "travesseiro"),
]
#: Words only company 1's products of the sample contain, each one edit from a word of company 2's products:
#: judged on company 2's part of the catalogue they were "corrected" ("frio" -> "fio", "manhã" -> "malha").
COMPANY_ONE_WORDS = ["frio", "manhã", "fresco", "médico", "cartão"]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The sample catalogue (two companies) with the hashing embedder: correction does not depend on the model."""
    settings = Settings.from_dict({"store": {"path": str(tmp_path_factory.mktemp("typo") / "store")}})
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        index.reindex(PRODUCTS)
        yield index


def searcher_with(index: SearchIndex, words: WordList) -> HybridSearcher:
    """A searcher of ``index`` that judges words with another word list."""
    return HybridSearcher(
        index.store, index.collection, index.embedder, index.bm25, index.chars, index.settings.search, words=words
    )


def test_the_valid_words_are_common_words_the_sample_catalogue_lacks() -> None:
    analyzer = Analyzer("pt")
    terms = {term for doc in PRODUCTS for term in analyzer.terms(sparse_text(doc))}
    words = {word for doc in PRODUCTS for word in analyzer.words(typo_text(doc))}
    assert len(set(VALID_WORDS)) >= 200
    present = [word for word in VALID_WORDS if analyzer.stem(fold(word)) in terms or fold(word) in words]
    assert present == []
    # Long enough to be corrected at all (shorter words never are), and no stopwords.
    assert all(len(fold(word)) >= 4 and fold(word).isalpha() and analyzer.words(word) for word in VALID_WORDS)


def test_no_valid_word_is_ever_corrected(sample_index: SearchIndex) -> None:
    corrected = []
    for word in VALID_WORDS:
        for query in (word, f"{word} para presente", f"{word} camiseta preta"):
            for filters in (None, {"company_id": 1}, {"company_id": 2}):
                result = sample_index.search(query, filters=parse_filters(filters))
                if result.corrected_query is not None:
                    corrected.append((query, filters, result.corrected_query))
    assert corrected == []


@pytest.mark.parametrize(("query", "meant"), MISSPELLINGS)
def test_misspellings_of_catalogue_words_are_still_corrected(sample_index: SearchIndex, query: str, meant: str) -> None:
    assert sample_index.search(query).corrected_query == meant
    assert sample_index.search(query, filters=parse_filters({"company_id": 1})).corrected_query == meant


@pytest.mark.parametrize("word", COMPANY_ONE_WORDS)
def test_a_filter_does_not_make_a_catalogue_word_unknown(sample_index: SearchIndex, word: str) -> None:
    # No dictionary at all: only the catalogue tells known from unknown, and the whole catalogue does.
    searcher = searcher_with(sample_index, WordList(()))
    assert not sample_index.search(word, method="bm25", filters=parse_filters({"company_id": 2})).hits
    assert searcher.search(word, filters=parse_filters({"company_id": 2})).corrected_query is None
    assert searcher.search("camizeta", filters=parse_filters({"company_id": 2})).corrected_query == "camiseta"


def test_without_a_dictionary_search_falls_back_to_the_catalogue(
    sample_index: SearchIndex, caplog: pytest.LogCaptureFixture
) -> None:
    words = WordList(["no-such-language-for-test-typo"])  # pyspellchecker refuses to load it
    searcher = searcher_with(sample_index, words)
    with caplog.at_level(logging.WARNING, logger="odoo_search_lib.words"):
        result = searcher.search("camizeta preta", filters=parse_filters({"company_id": 1}))
    assert result.corrected_query == "camiseta preta"
    assert result.hits
    assert "typo correction judges words by the catalogue alone" in caplog.text
    assert not words.available()
    assert searcher.search("frio", filters=parse_filters({"company_id": 2})).corrected_query is None


def test_known_words_are_never_corrected(sample_index: SearchIndex) -> None:
    searcher = searcher_with(sample_index, WordList(["pt", "en"]))
    assert searcher.search("geladera").corrected_query == "geladeira"
    searcher.set_known_words(["geladera", "Bisicleta elétrica"])
    assert searcher.known_words == {"geladera", "bisicleta", "eletrica"}
    assert searcher.search("geladera").corrected_query is None
    assert searcher.search("bisicleta aro 29").corrected_query is None
    searcher.set_known_words([])
    assert searcher.search("geladera").corrected_query == "geladeira"


@pytest.mark.parametrize("known", ["geladera", None, 3, ["geladera", 3], [None]])
def test_known_words_must_be_a_list_of_strings(sample_index: SearchIndex, known: object) -> None:
    with pytest.raises(ConfigError) as info:
        sample_index.searcher.set_known_words(known)  # type: ignore[arg-type]
    assert info.value.code == "invalid_known_words"


def test_word_lists_hold_folded_words_of_each_language() -> None:
    portuguese, english, both = WordList(["pt"]), WordList(["en"]), WordList(["pt", "en", "pt"])
    assert both.languages == ("pt", "en")
    for word in ("frio", "manha", "bolsa", "capa", "calca"):  # folded: "manhã", "calça"
        assert word in portuguese
    assert "morning" in english and "morning" not in portuguese
    assert "morning" in both and "frio" in both
    for misspelt in ("camizeta", "geladera", "bluetoth", "notbook"):
        assert misspelt not in both
    assert None not in both and 3 not in both
    assert both.available()


def test_a_word_only_an_unpublished_product_has_is_not_told_apart_from_a_typo(tmp_path: Path) -> None:
    """A customer-facing search (published only) must not learn the words of unpublished products."""
    secret = [
        Document("s1", "Protótipo Zorbax Secreto", "Ainda não lançado.", "Lançamentos", published=False),
        Document("s2", "Mochila Zorbix Escolar", "Mochila com rodinhas.", "Mochilas"),
    ]
    settings = Settings.from_dict({"store": {"path": str(tmp_path)}, "synonyms": {"builtin": False}})
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        index.upsert(secret)
        visible = Filters(published=True)
        # unpublished-only word: a typo for a published search (corrected to the published word) ...
        assert index.search("zorbax", filters=visible).corrected_query == "zorbix"
        # ... exactly like a made-up word one letter away
        assert index.search("zorbux", filters=visible).corrected_query == "zorbix"
        # with a category filter too (the probes then take a round trip of their own)
        both = Filters(published=True, category="Mochilas")
        assert index.search("zorbax", filters=both).corrected_query == "zorbix"
        # an internal search (no publication filter) knows the word
        assert index.search("zorbax").corrected_query is None
