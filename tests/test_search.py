"""HybridSearcher: query hygiene, fusion, filters inside every stage, explanations."""

from __future__ import annotations

import pytest

from odoo_search_lib import Filters, QueryError, Settings
from odoo_search_lib.confidence import hit_terms, term_coverage
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.search import COVERAGE_HITS, adaptive_weights, correct_words, edit_distance, fuse, parse_filters
from odoo_search_lib.store.base import ScoredPoint, SignalQuery
from tests.conftest import MINI_CATALOGUE, HashingEmbedder


def _points(*pairs: tuple[str, float]) -> list[ScoredPoint]:
    return [ScoredPoint(doc_id, score, {"name": doc_id}) for doc_id, score in pairs]


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    hits = fuse(
        {"dense": _points(("a", 0.9), ("b", 0.8)), "bm25": _points(("b", 7.0), ("c", 2.0))},
        {"dense": 1.0, "bm25": 2.0},
        fusion="rrf",
        rrf_k=10,
    )
    scores = {hit.id: hit.score for hit in hits}
    assert scores["a"] == pytest.approx(1 / 11)
    assert scores["b"] == pytest.approx(1 / 12 + 2 / 11)
    assert scores["c"] == pytest.approx(2 / 12)
    assert [hit.id for hit in hits] == ["b", "c", "a"]
    assert hits[0].scores == {"dense": 0.8, "bm25": 7.0}


@pytest.mark.parametrize(
    "lists",
    [
        [[("a", 3.0), ("b", 1.0)]],
        [[("a", 0.9), ("b", 0.8), ("c", 0.1)], [("c", 12.0), ("a", 3.0)]],
        [[("a", 1.0)], [("b", 2.0), ("a", 2.0)]],  # one score, and no spread: 0.5 each
        [[(f"p{i}", 1.0) for i in range(30)] + [("outlier", 50.0)]],  # above 1: Qdrant does not clamp
    ],
)
def test_dbsf_scores_are_qdrants(lists: list[list[tuple[str, float]]]) -> None:
    """Fused DBSF scores equal qdrant-client's local-mode DBSF (the server's algorithm) with unit weights."""
    from qdrant_client.http import models
    from qdrant_client.hybrid.fusion import distribution_based_score_fusion

    signals = ["dense", "bm25", "chars"][: len(lists)]
    inputs = {signal: _points(*points) for signal, points in zip(signals, lists, strict=True)}
    hits = fuse(inputs, dict.fromkeys(signals, 1.0), fusion="dbsf")
    ids = {name: number for number, name in enumerate(sorted({n for points in lists for n, _ in points}))}
    responses = [
        [models.ScoredPoint(id=ids[name], version=0, score=score) for name, score in points] for points in lists
    ]
    expected = {point.id: point.score for point in distribution_based_score_fusion(responses, limit=100)}
    assert {ids[hit.id]: hit.score for hit in hits} == pytest.approx(expected, rel=1e-9)


def test_weighted_divides_by_the_best_score_of_each_signal() -> None:
    hits = fuse(
        {"dense": _points(("a", 0.5), ("b", 0.25)), "bm25": _points(("b", 10.0))},
        {"dense": 1.0, "bm25": 0.5},
        fusion="weighted",
    )
    assert {hit.id: round(hit.score, 6) for hit in hits} == {"a": 1.0, "b": 1.0}
    # equal fused scores: the better single-signal rank wins, then the id
    assert [hit.id for hit in hits] == ["a", "b"]


def test_ties_break_deterministically_by_rank_then_id() -> None:
    results = {"dense": _points(("z", 1.0)), "bm25": _points(("y", 1.0))}
    first = [hit.id for hit in fuse(results, {"dense": 1.0, "bm25": 1.0})]
    again = [hit.id for hit in fuse(dict(reversed(list(results.items()))), {"dense": 1.0, "bm25": 1.0})]
    assert first == again == ["y", "z"]


def test_unknown_fusion_is_a_query_error() -> None:
    with pytest.raises(QueryError) as info:
        fuse({}, {}, fusion="borda")
    assert info.value.code == "invalid_fusion"


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_refused(mini_index: SearchIndex, query: str) -> None:
    with pytest.raises(QueryError) as info:
        mini_index.search(query)
    assert info.value.code == "empty_query"


@pytest.mark.parametrize("query", [None, 42, ["camiseta"], b"camiseta"])
def test_non_string_query_is_refused(mini_index: SearchIndex, query: object) -> None:
    with pytest.raises(QueryError):
        mini_index.search(query)


def test_huge_query_is_capped_not_refused(mini_index: SearchIndex) -> None:
    result = mini_index.search("camiseta " * 1200)  # about 10 kB
    assert len(result.query) == mini_index.settings.search.max_query_chars
    assert result.hits and result.hits[0].id in {"c1", "c2"}


@pytest.mark.parametrize(("limit", "expected"), [(0, 1), (-5, 1), (2, 2), (10**9, 6), (None, 6)])
def test_limit_is_clamped(mini_index: SearchIndex, limit: object, expected: int) -> None:
    assert len(mini_index.search("camiseta", limit=limit).hits) == expected


@pytest.mark.parametrize("limit", ["10", 2.5, True])
def test_limit_of_the_wrong_type_is_refused(mini_index: SearchIndex, limit: object) -> None:
    with pytest.raises(QueryError) as info:
        mini_index.search("camiseta", limit=limit)
    assert info.value.code == "invalid_limit"


def test_unknown_method_is_refused(mini_index: SearchIndex) -> None:
    with pytest.raises(QueryError) as info:
        mini_index.search("camiseta", method="fuzzy")
    assert info.value.code == "invalid_method"


def test_the_query_is_embedded_once_per_hybrid_search(mini_index: SearchIndex) -> None:
    embedder = mini_index.embedder
    before = embedder.query_calls
    mini_index.search("camiseta preta")
    assert embedder.query_calls == before + 1
    mini_index.search("camiseta preta", method="bm25")
    assert embedder.query_calls == before + 1


def test_methods_use_only_their_signal(mini_index: SearchIndex) -> None:
    assert {s for hit in mini_index.search("camiseta", method="bm25").hits for s in hit.scores} == {"bm25"}
    assert {s for hit in mini_index.search("camiseta", method="dense").hits for s in hit.scores} == {"dense"}
    hybrid = {s for hit in mini_index.search("camiseta", method="hybrid").hits for s in hit.scores}
    assert hybrid == {"dense", "bm25", "chars"}


def test_hit_explains_its_fused_score(mini_index: SearchIndex) -> None:
    k = mini_index.settings.search.rrf_k
    weights = mini_index.settings.search.weights
    per_signal = {
        method: mini_index.search("camiseta preta", method=method, limit=100).ids() for method in ("dense", "bm25")
    }
    stage = SignalQuery("chars", mini_index.chars.encode_query("camiseta preta"), 100)
    chars = mini_index.store.query(mini_index.collection(), [stage])[0]
    per_signal["chars"] = [point.doc_id for point in chars]
    top = mini_index.search("camiseta preta").hits[0]
    # The adaptive weights: how much of the query BM25's three best hits spell out.
    analyzer = mini_index.bm25.analyzer
    best = [hit.payload for hit in mini_index.search("camiseta preta", method="bm25", limit=COVERAGE_HITS).hits]
    query_terms = set(analyzer.terms("camiseta preta"))
    coverage = max(term_coverage(query_terms, hit_terms(payload, analyzer)) for payload in best)
    weights = adaptive_weights(weights, coverage, mini_index.settings.search.coverage_boost)
    expected = sum(weights[signal] / (k + ids.index(top.id) + 1) for signal, ids in per_signal.items() if top.id in ids)
    assert top.score == pytest.approx(expected)
    assert set(top.scores) == {signal for signal, ids in per_signal.items() if top.id in ids}


def test_only_stopwords_still_searches_with_the_dense_signal(mini_index: SearchIndex) -> None:
    result = mini_index.search("oi, tudo bem? para")
    assert result.hits
    assert all(set(hit.scores) <= {"dense", "chars"} for hit in result.hits)


@pytest.mark.parametrize("method", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(company_ids=(2,)), {"t1", "f1", "k1"}),
        (Filters(category="roupas"), {"c1", "c2"}),
        (Filters(category="Roupas > Camisetas"), {"c1", "c2"}),
        (Filters(price_min=50, price_max=300), {"c2", "t1", "f1"}),
        (Filters(in_stock=False), {"c2"}),
        (Filters(published=False), {"k1"}),
        (Filters(company_ids=(1,), in_stock=True, price_max=100), {"c1", "k1"}),
        # t1 is sold on website 1 only, f1 on website 2 only, the others on every website
        (Filters(website_id=1), {"c1", "c2", "t1", "k1", "n1"}),
        (Filters(website_id=2), {"c1", "c2", "f1", "k1", "n1"}),
        (Filters(attributes=(("cor", ("PRETA", "preto")),)), {"c1", "t1"}),
        (Filters(attributes=(("cor", ("preto",)), ("Tamanho", ("42", "43")))), {"t1"}),
    ],
)
def test_filters_apply_inside_every_stage(
    mini_index: SearchIndex, method: str, filters: Filters, allowed: set[str]
) -> None:
    found = set(mini_index.search("camiseta tenis fone capa notebook", method=method, filters=filters, limit=50).ids())
    assert found <= allowed
    if method != "bm25":  # the dense signal always returns every matching document
        assert found == allowed


def test_search_takes_an_attribute_filter_as_a_mapping(mini_index: SearchIndex) -> None:
    result = mini_index.search("camiseta", filters={"attributes": {"Tamanho": ["M", "G"]}})  # type: ignore[arg-type]
    assert result.ids() == ["c1"]


def test_parse_filters_accepts_json_and_cli_values() -> None:
    assert parse_filters({"in_stock": "true", "price_min": "10", "category": " Roupas "}) == Filters(
        in_stock=True, price_min=10.0, category="Roupas"
    )
    assert parse_filters({"company_id": [1, 2], "published": False}) == Filters(company_ids=(1, 2), published=False)
    assert parse_filters({"website_id": "3"}) == Filters(website_id=3)
    assert parse_filters({"attributes": {" Tamanho ": ["38", 39, 40.0], "Cor": "preto"}}) == Filters(
        attributes=(("Tamanho", ("38", "39", "40")), ("Cor", ("preto",)))
    )
    assert parse_filters({}) is None
    assert parse_filters(None) is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"colour": "red"}, "unknown_filter"),
        ({"price_min": "cheap"}, "invalid_filter"),
        ({"price_min": -1}, "invalid_filter"),
        ({"price_max": float("inf")}, "invalid_filter"),
        ({"price_min": 10, "price_max": 5}, "invalid_filter"),
        ({"in_stock": "maybe"}, "invalid_filter"),
        ({"category": ""}, "invalid_filter"),
        ({"category": 3}, "invalid_filter"),
        ({"company_id": 0}, "invalid_filter"),
        ({"company_id": True}, "invalid_filter"),
        ({"company_id": 1.5}, "invalid_filter"),
        ({"website_id": [1, 2]}, "invalid_filter"),
        ({"website_id": 0}, "invalid_filter"),
        (["category"], "invalid_filter"),
        ({"attributes": "Tamanho=38"}, "invalid_filter"),
        ({"attributes": ["Tamanho", "38"]}, "invalid_filter"),
        ({"attributes": {}}, "invalid_filter"),
        ({"attributes": {"": ["38"]}}, "invalid_filter"),
        ({"attributes": {"T" * 1001: "38"}}, "invalid_filter"),
        ({"attributes": {"Tamanho": []}}, "invalid_filter"),
        ({"attributes": {"Tamanho": [" "]}}, "invalid_filter"),
        ({"attributes": {"Tamanho": ["x" * 1001]}}, "invalid_filter"),
        ({"attributes": {"Tamanho": list(range(201))}}, "invalid_filter"),
        ({"attributes": {"Tamanho": [True]}}, "invalid_filter"),
        ({"attributes": {"Tamanho": None}}, "invalid_filter"),
        ({"attributes": {"Tamanho": [["38"]]}}, "invalid_filter"),
        ({"attributes": {"Tamanho": {"a": 1}}}, "invalid_filter"),
        ({"attributes": {"Tamanho": [float("nan")]}}, "invalid_filter"),
        ({"attributes": {f"a{i}": "x" for i in range(21)}}, "invalid_filter"),
    ],
)
def test_parse_filters_rejects_bad_input(raw: object, code: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_filters(raw)  # type: ignore[arg-type]
    assert info.value.code == code


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("camiseta", "camiseta", 0),
        ("camizeta", "camiseta", 1),
        ("notbook", "notebook", 1),
        ("tneis", "tenis", 1),
        ("geladera", "geladeira", 1),
        ("abc", "xyz", 3),
    ],
)
def test_edit_distance_counts_transpositions_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 5) == distance
    assert edit_distance(a, b, 0) == min(distance, 1)


VOCABULARY = {"camiseta": 5, "camisa": 3, "geladeira": 2, "bluetooth": 4, "fone": 4, "grill": 1, "air": 1, "fryer": 1}


@pytest.mark.parametrize(
    ("query", "unknown", "probed", "expected"),
    [
        ("camizeta", ["camizeta"], 1, "camiseta"),
        ("Fone Bluetoth, por favor", ["bluetoth"], 2, "Fone bluetooth, por favor"),
        ("geladera", ["geladera"], 1, "geladeira"),
        ("drill", ["drill"], 1, "drill"),  # the first letter must match: never 'grill'
        ("hair dryer", ["hair", "dryer"], 2, "hair dryer"),  # mostly unknown words: another language
        ("camixxxa", ["camixxxa"], 1, "camixxxa"),  # too far from every known word
    ],
)
def test_correct_words(query: str, unknown: list[str], probed: int, expected: str) -> None:
    assert correct_words(query, unknown, VOCABULARY, probed) == expected


def test_a_corrected_query_is_reported(mini_index: SearchIndex) -> None:
    result = mini_index.search("camizeta preta")
    assert result.corrected_query == "camiseta preta"
    assert result.hits[0].id == "c1"
    assert mini_index.search("camiseta preta").corrected_query is None


def test_a_repeated_query_reuses_its_cached_vector(mini_index: SearchIndex) -> None:
    embedder = mini_index.embedder
    first = mini_index.search("tênis de corrida para maratona")
    calls = embedder.query_calls
    again = mini_index.search("tênis de corrida para maratona")
    assert embedder.query_calls == calls
    assert again.ids() == first.ids()


def test_equal_scores_rank_by_id_whatever_order_the_store_returns() -> None:
    for order in ((("b", 2.0), ("a", 2.0), ("c", 1.0)), (("a", 2.0), ("b", 2.0), ("c", 1.0))):
        hits = fuse({"bm25": _points(*order)}, {"bm25": 1.0}, rrf_k=10)
        assert [hit.id for hit in hits] == ["a", "b", "c"]
        assert hits[0].score == hits[1].score == pytest.approx(1 / 11)


def test_correction_vocabulary_reads_a_bounded_part_of_wide_products() -> None:
    """A product with thousands of attributes costs a misspelled query a bounded amount of tokenising."""
    from odoo_search_lib.search import CORRECTION_CHARS_PER_HIT, _vocabulary
    from odoo_search_lib.sparse import CharNgramEncoder
    from odoo_search_lib.text import Analyzer

    wide = {
        "name": "Camiseta Básica",
        "category": "Roupas > Camisetas",
        "tags": ["algodão"],
        "attributes": {f"Atributo {j}": f"valor{j} medida{j % 97}" for j in range(5000)},
    }
    vocabulary = _vocabulary([wide] * 30, CharNgramEncoder(Analyzer("pt")))
    assert {"camiseta", "basica", "camisetas", "algodao"} <= set(vocabulary)  # name, leaf, tags always read
    assert "valor0" in vocabulary and "valor4999" not in vocabulary
    assert len(vocabulary) < CORRECTION_CHARS_PER_HIT // 4  # without the bound: over 5000 words


def test_adaptive_weights_follow_how_much_of_the_query_bm25_spells_out() -> None:
    base = {"dense": 3.0, "bm25": 1.0, "chars": 0.5}
    assert adaptive_weights(base, 0.5, 0.0) == base  # boost 0: the configured weights
    spelled, missing = adaptive_weights(base, 1.0, 2.0), adaptive_weights(base, 0.0, 2.0)
    assert spelled == {"dense": 3.0, "bm25": 3.0, "chars": 0.5}
    assert missing == {"dense": 9.0, "bm25": 1.0, "chars": 0.5}
    half = adaptive_weights(base, 0.5, 2.0)
    assert missing["dense"] > half["dense"] > spelled["dense"] and missing["bm25"] < half["bm25"] < spelled["bm25"]
    assert adaptive_weights({"dense": 0.0, "bm25": 1.0, "chars": 0.0}, 0.0, 2.0)["dense"] == 0.0  # off stays off


def test_when_one_signal_returns_nothing_the_others_decide() -> None:
    dense = _points(("a", 0.9), ("b", 0.8), ("c", 0.1))
    weights = adaptive_weights({"dense": 3.0, "bm25": 1.0, "chars": 0.5}, 0.0, 2.0)
    alone = [hit.id for hit in fuse({"dense": dense}, weights, rrf_k=10)]
    assert [hit.id for hit in fuse({"dense": dense, "bm25": []}, weights, rrf_k=10)] == alone == ["a", "b", "c"]


def test_a_query_the_catalogue_spells_out_leans_on_bm25(mini_index: SearchIndex) -> None:
    # Every word of "fone bluetooth" is in f1's name: the adapted BM25 weight is at its highest.
    hybrid = mini_index.search("fone bluetooth")
    assert hybrid.hits[0].id == "f1" and hybrid.hits[0].scores["bm25"] > 0


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan"), float("inf"), "0.5", True, [0.5]])
def test_min_confidence_rejects_what_is_not_a_probability(mini_index: SearchIndex, value: object) -> None:
    with pytest.raises(QueryError) as caught:
        mini_index.search("camiseta", min_confidence=value)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_min_confidence"


def test_min_confidence_drops_the_weaker_hits(mini_index: SearchIndex) -> None:
    everything = mini_index.search("camiseta preta", limit=10)
    assert mini_index.search("camiseta preta", limit=10, min_confidence=0).ids() == everything.ids()
    floor = everything.hits[0].confidence
    kept = mini_index.search("camiseta preta", limit=10, min_confidence=floor)
    assert kept.ids() == [hit.id for hit in everything.hits if hit.confidence >= floor] and kept.ids()
    assert len(kept.hits) < len(everything.hits)
    assert mini_index.search("camiseta preta", min_confidence=1).hits == ()


def test_the_min_confidence_setting_is_the_default_cut_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_dict({"store": {"path": str(tmp_path)}, "search": {"min_confidence": 1.0}})
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        index.upsert(MINI_CATALOGUE)
        assert index.search("camiseta").hits == ()  # nothing is certain
        assert index.search("camiseta", min_confidence=0).hits  # the caller's value wins
        # a bm25-only search has no cosine to be confident with: the setting does not empty it ...
        assert index.search("camiseta", method="bm25").hits
        # ... and a caller's cut-off is refused
        with pytest.raises(QueryError) as caught:
            index.search("camiseta", method="bm25", min_confidence=0.5)
        assert caught.value.code == "invalid_min_confidence"
