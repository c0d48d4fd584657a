"""Synonyms: multi-way and one-way sets, phrases, accents, runtime replacement, the built-in lists, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from odoo_search_lib import ConfigError, Document, Settings
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.synonyms import MAX_SETS, Synonyms, SynonymSet, builtin_sets
from tests.conftest import HashingEmbedder

CATALOGUE = [
    Document("fridge", "Refrigerador Duplex Frost Free 400 litros", "Duas portas, inox.", "Eletrodomésticos"),
    Document("freezer", "Geladeira Compacta 120 litros", "Uma porta, branca.", "Eletrodomésticos"),
    Document("flat", "Sapatilha Feminina Bico Fino", "Couro sintético.", "Calçados > Sapatilhas"),
    Document("runner", "Tênis de Corrida Runner", "Amortecimento em gel.", "Calçados > Tênis"),
    Document("jacket", "Jaqueta Corta Vento Impermeável", "Capuz removível.", "Roupas > Jaquetas"),
    Document("shirt", "Camiseta Básica Algodão", "Gola redonda.", "Roupas > Camisetas"),
    Document("ball", "Bola de Futebol Oficial", "Costura térmica.", "Esportes > Bolas"),
]


def _index(path: Path, sets: list[dict[str, Any]], builtin: bool = False) -> SearchIndex:
    settings = Settings.from_dict(
        {"tenant": "syn", "store": {"path": str(path)}, "synonyms": {"builtin": builtin, "sets": sets}}
    )
    return SearchIndex(settings, embedder=HashingEmbedder())


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    with _index(tmp_path / "store", []) as index:
        index.upsert(CATALOGUE)
        yield index


def _ids(index: SearchIndex, query: str, method: str = "bm25") -> list[str]:
    return [hit.id for hit in index.search(query, method=method).hits]


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_multi_way_set_matches_every_term(index: SearchIndex, method: str) -> None:
    assert "fridge" not in _ids(index, "geladeira")[:1]
    index.set_synonyms([{"synonyms": ["geladeira", "refrigerador"]}])
    assert _ids(index, "geladeira", method)[0] in {"fridge", "freezer"}
    assert set(_ids(index, "geladeira", method)[:2]) == {"fridge", "freezer"}
    assert set(_ids(index, "refrigerador", method)[:2]) == {"fridge", "freezer"}


def test_one_way_set_expands_the_root_only(index: SearchIndex) -> None:
    index.set_synonyms([{"root": "tenis", "synonyms": ["sapatilha"]}])
    assert set(_ids(index, "tenis")) == {"runner", "flat"}
    assert _ids(index, "sapatilha") == ["flat"]


def test_phrases_match_across_stopwords_plurals_accents_and_case(index: SearchIndex) -> None:
    index.set_synonyms([{"root": "Roupa de Frio", "synonyms": ["jaqueta"]}, {"synonyms": ["TÊNIS", "sapatilha"]}])
    assert _ids(index, "roupas para o frio")[0] == "jacket"
    assert _ids(index, "frio") == []  # one word of the phrase is not the phrase
    assert set(_ids(index, "Tenis")) == {"runner", "flat"}
    assert set(_ids(index, "SAPATILHAS")) == {"runner", "flat"}


def test_expansions_and_words() -> None:
    synonyms = Synonyms.build(
        [{"synonyms": ["geladeira", "refrigerador"]}, {"root": "roupa de frio", "synonyms": ["jaqueta", "casaco"]}],
        "pt",
        builtin=False,
    )
    found = synonyms.expand("Geladeiras e roupa pro frio")
    assert [(item.phrase, item.alternatives) for item in found] == [
        ("geladeiras", ("refrigerador",)),
        ("roupa frio", ("jaqueta", "casaco")),
    ]
    assert synonyms.expand("jaqueta") == ()  # one-way
    assert synonyms.expand("geladeira refrigerador") == ()  # nothing new to add
    assert synonyms.words() == {"geladeira", "refrigerador", "jaqueta", "casaco"}


def test_a_hit_holding_a_synonym_covers_the_query_phrase(index: SearchIndex) -> None:
    """What the adaptive weights and the match confidence both read: a hit covers a query phrase when
    it holds one of the phrase's synonyms whole, not a part of one."""
    index.set_synonyms([{"root": "roupa de frio", "synonyms": ["jaqueta corta vento"]}])
    searcher = index.searcher
    equivalents = searcher._equivalents(searcher.synonyms.expand("roupa de frio"))
    stems = set(index.bm25.analyzer.terms("roupa de frio"))
    jacket = index.payload(CATALOGUE[4])  # "Jaqueta Corta Vento Impermeável"
    shirt = index.payload(CATALOGUE[5])
    assert stems <= searcher._covered(jacket, equivalents)
    partly = index.payload(Document("vest", "Jaqueta Jeans", "", "Roupas > Jaquetas"))  # no "corta vento"
    for payload in (shirt, partly):  # "roupa" from their category, never "frio"
        assert searcher._covered(payload, equivalents) & stems == {"roup"}


def test_replacing_sets_needs_no_reindex(index: SearchIndex) -> None:
    collection, calls = index.collection(), index.embedder.document_calls
    index.set_synonyms([{"synonyms": ["geladeira", "refrigerador"]}])
    assert "fridge" in _ids(index, "geladeira")
    index.set_synonyms([])
    assert "fridge" not in _ids(index, "geladeira")
    assert (index.collection(), index.embedder.document_calls) == (collection, calls)


def test_a_word_with_synonyms_is_not_taken_for_a_typo(index: SearchIndex) -> None:
    # 'bolão' is in neither the catalogue nor pyspellchecker's Portuguese list: taken for 'bola' ...
    assert index.search("bolao").corrected_query == "bola"
    # ... until a synonym set holds it
    index.set_synonyms([{"synonyms": ["bolão", "bolona"]}])
    assert index.search("bolao").corrected_query is None


def test_bad_sets_keep_the_current_ones(index: SearchIndex) -> None:
    index.set_synonyms([{"synonyms": ["geladeira", "refrigerador"]}])
    with pytest.raises(ConfigError) as error:
        index.set_synonyms([{"synonyms": ["geladeira"]}])
    assert error.value.code == "empty_synonym_set"
    assert "fridge" in _ids(index, "geladeira")


def test_settings_sets_apply_from_the_start(tmp_path: Path) -> None:
    with _index(tmp_path / "store", [{"synonyms": ["geladeira", "refrigerador"]}]) as index:
        index.upsert(CATALOGUE)
        assert "fridge" in _ids(index, "geladeira")


@pytest.mark.parametrize("builtin", [True, False])
def test_builtin_list_can_be_turned_off(tmp_path: Path, builtin: bool) -> None:
    with _index(tmp_path / "store", [], builtin=builtin) as index:
        index.upsert(CATALOGUE)
        assert ("fridge" in _ids(index, "geladeira")) is builtin


@pytest.mark.parametrize("language", ["pt", "en"])
def test_builtin_lists_load_and_compile(language: str) -> None:
    sets = builtin_sets(language)
    assert len(sets) >= 150
    assert builtin_sets(language) is sets  # read once per process
    assert any(entry.root for entry in sets) and any(entry.root is None for entry in sets)
    words = Synonyms.build([], language).words()
    assert {"geladeira", "refrigerador", "celular"} <= words if language == "pt" else {"fridge", "sneakers"} <= words


def test_builtin_and_custom_sets_merge() -> None:
    synonyms = Synonyms.build([{"synonyms": ["geladeira", "brastemp"]}], "pt")
    assert set(synonyms.expand("geladeira")[0].alternatives) == {"refrigerador", "brastemp"}


def test_settings_from_env_and_yaml(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ODOO_SEARCH_SYNONYMS__BUILTIN": "false",
            "ODOO_SEARCH_SYNONYMS__SETS": '[{"root": "tenis", "synonyms": ["sapatilha"]}]',
        }
    )
    assert settings.synonyms.builtin is False
    assert settings.synonyms.sets == (SynonymSet(("sapatilha",), "tenis"),)
    pytest.importorskip("yaml")
    path = tmp_path / "settings.yaml"
    path.write_text("synonyms:\n  sets:\n    - synonyms: [geladeira, refrigerador]\n", encoding="utf-8")
    assert Settings.from_yaml(path).synonyms.sets == (SynonymSet(("geladeira", "refrigerador")),)


@pytest.mark.parametrize(
    ("synonyms", "code"),
    [
        ({"builtin": "maybe"}, "config_error"),
        ({"builtin": [1]}, "config_error"),
        ({"sets": {"synonyms": ["a", "b"]}}, "invalid_synonyms"),
        ({"sets": "geladeira,refrigerador"}, "config_error"),
        ({"sets": [["geladeira", "refrigerador"]]}, "invalid_synonyms"),
        ({"sets": [{"terms": ["geladeira", "refrigerador"]}]}, "invalid_synonyms"),
        ({"sets": [{"synonyms": ["geladeira", "refrigerador"], "weight": 2}]}, "invalid_synonyms"),
        ({"sets": [{"synonyms": "geladeira"}]}, "invalid_synonyms"),
        ({"sets": [{"synonyms": ["geladeira", 3]}]}, "invalid_synonyms"),
        ({"sets": [{"synonyms": ["geladeira", "refrigerador"], "root": 1}]}, "invalid_synonyms"),
        ({"sets": [{"synonyms": []}]}, "empty_synonym_set"),
        ({"sets": [{"synonyms": ["geladeira"]}]}, "empty_synonym_set"),
        ({"sets": [{"synonyms": ["Geladeira", "geladeira "]}]}, "empty_synonym_set"),
        ({"sets": [{"root": "tenis", "synonyms": ["tenis"]}]}, "empty_synonym_set"),
        ({"sets": [{"synonyms": ["geladeira", "  "]}]}, "empty_synonym"),
        ({"sets": [{"synonyms": ["geladeira", "de o a"]}]}, "empty_synonym"),
        ({"sets": [{"synonyms": ["geladeira", "x" * 65]}]}, "synonym_too_long"),
        ({"sets": [{"synonyms": ["geladeira", "oito dois tres quatro cinco seis sete"]}]}, "synonym_too_long"),
        ({"sets": [{"synonyms": [f"termo{i}" for i in range(65)]}]}, "too_many_synonyms"),
        ({"sets": [{"synonyms": ["a1", "b1"]}] * (MAX_SETS + 1)}, "too_many_synonym_sets"),
    ],
)
def test_bad_synonym_settings(synonyms: dict[str, Any], code: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_dict({"synonyms": synonyms})
    assert error.value.code == code
    assert "synonyms." in str(error.value)


def test_unknown_synonym_setting_names_the_key() -> None:
    with pytest.raises(ConfigError, match="synonyms.weight"):
        Settings.from_dict({"synonyms": {"weight": 1}})


@pytest.mark.parametrize("mapping", [None, "geladeira", 3, [], {"synonyms": None}])
def test_synonym_set_from_dict_rejects_non_sets(mapping: object) -> None:
    with pytest.raises(ConfigError) as error:
        SynonymSet.from_dict(mapping)
    assert error.value.code == "invalid_synonyms"
