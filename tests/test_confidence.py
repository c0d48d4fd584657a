"""The per-hit match confidence: term coverage and the calibrated logistic model."""

from __future__ import annotations

from odoo_search_lib import Hit, SearchIndex, Settings
from odoo_search_lib.confidence import (
    COEFFICIENTS,
    LANGUAGE_COEFFICIENTS,
    hit_terms,
    match_confidence,
    term_coverage,
    without_padding,
)
from odoo_search_lib.text import Analyzer
from tests.conftest import MINI_CATALOGUE, HashingEmbedder


def test_coverage_counts_query_terms_found_in_the_hit_short_text() -> None:
    analyzer = Analyzer("pt")
    payload = {"name": "Cafeteira Elétrica 220V", "category": "Casa > Cafeteiras", "attributes": {"Cor": "Preto"}}
    terms = hit_terms(payload, analyzer)
    assert term_coverage(set(analyzer.terms("cafeteira preta")), terms) == 1.0
    assert term_coverage(set(analyzer.terms("cafeteira 110v")), terms) == 0.5  # cafeteira and v, not 110
    assert term_coverage(set(), terms) == 0.0


def test_list_attribute_values_count_as_hit_terms() -> None:
    analyzer = Analyzer("pt")
    terms = hit_terms({"name": "Tênis", "attributes": {"Tamanho": ["38", "39"], "Cor": "Preto"}}, analyzer)
    assert term_coverage(set(analyzer.terms("tenis 39 preto")), terms) == 1.0


def test_confidence_rises_with_each_signal_and_stays_a_probability() -> None:
    assert 0.0 < match_confidence(0.0, 0.0) < match_confidence(0.5, 0.0) < match_confidence(0.5, 1.0) < 1.0
    assert match_confidence(1e9, 1e9) <= 1.0 and match_confidence(-1e9, -1e9) >= 0.0


def test_searches_fill_in_the_confidence(mini_index) -> None:  # type: ignore[no-untyped-def]
    result = mini_index.search("camiseta algodão preta", limit=3)
    assert result.hits[0].id == "c1"
    assert result.hits[0].confidence > max(hit.confidence for hit in result.hits[1:])


def test_each_language_has_its_own_coefficients(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert LANGUAGE_COEFFICIENTS["pt"] == COEFFICIENTS and LANGUAGE_COEFFICIENTS["en"] != COEFFICIENTS
    for language in ("pt", "en"):
        settings = Settings.from_dict({"language": language, "store": {"path": str(tmp_path / language)}})
        with SearchIndex(settings, embedder=HashingEmbedder()) as index:
            index.upsert(MINI_CATALOGUE)
            analyzer = index.bm25.analyzer
            for hit in index.search("camiseta preta", limit=3).hits:
                coverage = term_coverage(set(analyzer.terms("camiseta preta")), hit_terms(hit.payload, analyzer))
                expected = match_confidence(hit.scores.get("dense", 0.0), coverage, LANGUAGE_COEFFICIENTS[language])
                assert hit.confidence == expected


def _hits(*confidences: float) -> list[Hit]:
    return [Hit(f"h{i}", 1.0 / (i + 1), {}, {}, confidence) for i, confidence in enumerate(confidences)]


def test_without_padding_keeps_hits_near_the_best_and_above_the_floor() -> None:
    # a query the catalogue answers well: the weak tail goes
    assert [hit.id for hit in without_padding(_hits(0.9, 0.8, 0.46, 0.44, 0.2))] == ["h0", "h1", "h2"]
    # a synonym query whose hits all score low keeps its best ones instead of being emptied
    assert [hit.id for hit in without_padding(_hits(0.3, 0.2, 0.14, 0.12))] == ["h0", "h1"]
    # a query for what the shop does not sell: nothing reaches the floor
    assert without_padding(_hits(0.09, 0.05)) == ()
    assert without_padding([]) == ()
    # the order is kept, even where a lower-ranked hit is more confident
    assert [hit.id for hit in without_padding(_hits(0.5, 0.9), ratio=0.0)] == ["h0", "h1"]
