"""Tests of odoo_search_lib.text: accent folding, tokenisation, stopwords and stemming."""

from __future__ import annotations

import pytest

from odoo_search_lib.exceptions import ConfigError
from odoo_search_lib.text import MAX_TOKEN_LENGTH, STOPWORDS, Analyzer, fold, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Câmera Fotográfica", "camera fotografica"),
        ("PROMOÇÃO", "promocao"),
        ("Ação", "acao"),
        ("Ñandu España", "nandu espana"),
        ("çÇ", "cc"),
        ("Über Crème Brûlée", "uber creme brulee"),
        ("already plain", "already plain"),
        ("Straße", "strasse"),  # casefold, not lower
        ("", ""),
        ("Ca\u0301mera", "camera"),  # already decomposed
        ("ﬁlé Ǆ", "file dz"),  # compatibility forms
        ("x\U0001d167y", "xy"),  # a combining mark outside the Basic Multilingual Plane
    ],
)
def test_fold_strips_accents_and_case(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_is_idempotent() -> None:
    once = fold("Pão de Açúcar – Édition Spéciale")
    assert fold(once) == once


def test_tokenize_splits_on_punctuation_and_folds() -> None:
    assert tokenize("Camiseta, azul; (tamanho: M)! Ação/preço-baixo") == [
        "camiseta",
        "azul",
        "tamanho",
        "m",
        "acao",
        "preco",
        "baixo",
    ]


def test_tokenize_mixed_token_yields_whole_and_parts() -> None:
    assert tokenize("Celular 128GB") == ["celular", "128gb", "128", "gb"]
    assert tokenize("Chuveiro 220V") == ["chuveiro", "220v", "220", "v"]
    assert tokenize("a1b2") == ["a1b2", "a", "1", "b", "2"]


def test_tokenize_pure_tokens_are_not_split() -> None:
    assert tokenize("128 GB") == ["128", "gb"]
    assert tokenize("2024") == ["2024"]
    assert tokenize("abc") == ["abc"]


def test_tokenize_128gb_meets_128_gb() -> None:
    assert set(tokenize("128 GB")) <= set(tokenize("128GB"))


def test_tokenize_drops_tokens_longer_than_the_limit() -> None:
    at_limit = "a" * MAX_TOKEN_LENGTH
    too_long = "b" * (MAX_TOKEN_LENGTH + 1)
    assert MAX_TOKEN_LENGTH == 40
    assert tokenize(f"x {at_limit} {too_long} y") == ["x", at_limit, "y"]


def test_tokenize_drops_long_mixed_token_and_its_parts() -> None:
    too_long = "9" * 20 + "z" * 21
    assert tokenize(f"ok {too_long}") == ["ok"]


def test_tokenize_empty_and_punctuation_only() -> None:
    assert tokenize("") == []
    assert tokenize(" ,.;!?- ") == []


def test_analyzer_pt_removes_stopwords_and_stems() -> None:
    analyzer = Analyzer("pt")
    terms = analyzer.terms("Eu quero uma camiseta de algodão para você")
    assert "de" not in terms and "uma" not in terms and "para" not in terms and "voce" not in terms
    assert terms == [Analyzer("pt").terms("camiseta")[0], Analyzer("pt").terms("algodao")[0]]


def test_analyzer_words_are_folded_and_unstemmed() -> None:
    assert Analyzer("pt").words("As Camisetas de Algodão") == ["camisetas", "algodao"]


def test_analyzer_en_removes_stopwords_and_stems() -> None:
    analyzer = Analyzer("en")
    assert analyzer.terms("I am looking for the running shoes") == ["am", "run", "shoe"]
    assert analyzer.terms("Phones") == analyzer.terms("phone")


@pytest.mark.parametrize(
    ("accented", "plain"),
    [("promoção", "promocao"), ("câmera", "camera"), ("Promoções", "promocoes"), ("fotográfica", "fotografica")],
)
def test_analyzer_pt_accented_and_unaccented_stem_alike(accented: str, plain: str) -> None:
    analyzer = Analyzer("pt")
    assert analyzer.terms(accented) == analyzer.terms(plain)
    assert len(analyzer.terms(accented)) == 1


def test_analyzer_pt_plural_and_singular_stem_alike() -> None:
    analyzer = Analyzer("pt")
    assert analyzer.terms("camisetas") == analyzer.terms("camiseta") == analyzer.terms("CAMISETAS")
    assert analyzer.terms("câmeras") == analyzer.terms("camera")


def test_analyzer_stems_differ_for_different_words() -> None:
    analyzer = Analyzer("pt")
    assert analyzer.terms("camiseta") != analyzer.terms("camera")


def test_analyzer_keeps_repeats_in_order() -> None:
    assert Analyzer("pt").terms("bola bola azul bola") == ["bol", "bol", "azul", "bol"]


def test_analyzer_only_stopwords_gives_nothing() -> None:
    assert Analyzer("pt").terms("de para com a o") == []
    assert Analyzer("en").terms("the of and") == []


def test_stopword_lists_are_folded() -> None:
    # Tokens are folded before the stopword check, so an accented stopword would never match.
    for language, words in STOPWORDS.items():
        assert words, language
        assert all(word == fold(word) for word in words), language


@pytest.mark.parametrize("language", ["fr", "", "PT", "portuguese"])
def test_analyzer_unsupported_language(language: str) -> None:
    with pytest.raises(ConfigError, match="unsupported language"):
        Analyzer(language)


def test_analyzer_default_language_is_pt() -> None:
    assert Analyzer().language == "pt"
