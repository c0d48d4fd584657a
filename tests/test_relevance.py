"""Relevance on the bundled sample: BM25 against an independent oracle, typos, hybrid vs baselines."""

from __future__ import annotations

import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from odoo_search_lib import Settings
from odoo_search_lib.documents import load_jsonl, sparse_text
from odoo_search_lib.evaluate import (
    average,
    by_type,
    evaluate_run,
    load_qrels,
    load_queries,
    load_query_types,
    per_query,
    rank_bm25_ranker,
    substring_ranker,
)
from odoo_search_lib.index import SearchIndex
from tests.conftest import HashingEmbedder

pytestmark = pytest.mark.slow  # the real default model over the whole sample

DATA = resources.files("odoo_search_lib") / "data"
PRODUCTS = load_jsonl(Path(str(DATA / "sample_products.jsonl"))).documents
QUERIES = load_queries(Path(str(DATA / "sample_queries.tsv")))
TYPES = load_query_types(Path(str(DATA / "sample_queries.tsv")))
QRELS = load_qrels(Path(str(DATA / "sample_qrels.tsv")))


class QdrantIdfBM25(BM25Okapi):
    """rank-bm25's Okapi BM25 with the IDF Qdrant's ``Modifier.IDF`` applies: ln(1 + (N - n + 0.5) / (n + 0.5))."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {term: math.log(1 + (self.corpus_size - n + 0.5) / (n + 0.5)) for term, n in nd.items()}


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The sample catalogue indexed with the real default embedder."""
    settings = Settings.from_dict({"store": {"path": str(tmp_path_factory.mktemp("sample"))}})
    with SearchIndex(settings) as index:
        index.reindex(PRODUCTS)
        yield index


def test_bm25_scores_match_rank_bm25_on_the_sample(tmp_path: Path) -> None:
    analyzer_settings = Settings.from_dict({"store": {"path": str(tmp_path)}})
    with SearchIndex(analyzer_settings, embedder=HashingEmbedder()) as index:
        corpus = [index.bm25.analyzer.terms(sparse_text(doc)) for doc in PRODUCTS]
        average = sum(map(len, corpus)) / len(corpus)
    # the oracle scores the whole query text: constraints ("220V", "ate 100 reais") stay in it,
    # and it knows no synonyms
    settings = Settings.from_dict(
        {
            "store": {"path": str(tmp_path / "oracle")},
            "search": {"bm25_avg_len": average, "max_limit": 1000, "understand": False},
            "synonyms": {"builtin": False},
        }
    )
    oracle = QdrantIdfBM25(corpus, k1=1.2, b=0.75)
    ids = [doc.id for doc in PRODUCTS]
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        index.reindex(PRODUCTS)
        compared = 0
        for text in QUERIES.values():
            terms = sorted(set(index.bm25.analyzer.terms(text)))
            if not terms:
                continue
            expected = {ids[i]: s for i, s in enumerate(oracle.get_scores(terms)) if s > 0}
            hits = index.search(text, method="bm25", limit=1000).hits
            ours = {hit.id: hit.scores["bm25"] for hit in hits}
            assert ours.keys() == expected.keys(), text
            for doc_id, score in expected.items():
                assert ours[doc_id] == pytest.approx(score, rel=1e-4), (text, doc_id)
            # Same order up to ties: scores never increase along our ranking.
            ranked = [expected[hit.id] for hit in hits]
            assert all(a >= b - 1e-4 * max(1.0, a) for a, b in zip(ranked, ranked[1:], strict=False)), text
            compared += 1
    assert compared >= 90


@pytest.mark.parametrize("query", ["camizeta", "tenis corida", "fone bluetoth"])
def test_misspelt_queries_find_the_right_products(sample_index: SearchIndex, query: str) -> None:
    qid = next(qid for qid, text in QUERIES.items() if text == query)
    exact = {doc_id for doc_id, grade in QRELS[qid].items() if grade == 2}
    top = sample_index.search(query, limit=3).ids()
    assert exact.intersection(top), (query, top)


def test_character_ngrams_are_what_rescues_a_typo(sample_index: SearchIndex) -> None:
    qid = next(qid for qid, text in QUERIES.items() if text == "camizeta")
    exact = {doc_id for doc_id, grade in QRELS[qid].items() if grade == 2}
    assert not exact.intersection(sample_index.search("camizeta", method="bm25", limit=10).ids())
    hits = sample_index.search("camizeta", limit=3).hits
    assert all("chars" in hit.scores for hit in hits if hit.id in exact)


def test_hybrid_beats_every_single_method_and_baseline(sample_index: SearchIndex) -> None:
    def ours(method: str):  # noqa: ANN202
        return lambda text: sample_index.search(text, limit=10, method=method).ids()

    scores = {method: evaluate_run(QUERIES, QRELS, ours(method)) for method in ("bm25", "dense")}
    scores["substring"] = evaluate_run(QUERIES, QRELS, substring_ranker(PRODUCTS))
    scores["rank_bm25"] = evaluate_run(QUERIES, QRELS, rank_bm25_ranker(PRODUCTS))
    results = per_query(QUERIES, QRELS, ours("hybrid"))
    hybrid = average(results)
    for method, values in scores.items():
        assert hybrid["ndcg@10"] > values["ndcg@10"], (method, hybrid, values)
    # The name, category, attribute, typo, chat and English queries find an exact match nearly always;
    # synonyms, use cases and budgets in words are the known weak spots (issue 11), held to less.
    weak = {"synonym", "use_case", "budget"}
    plain = average({qid: values for qid, values in results.items() if TYPES[qid] not in weak})
    assert plain["hit@10"] >= 0.95, plain
    for kind, values in by_type(results, TYPES).items():
        assert values["hit@10"] >= (0.8 if kind in weak else 0.9), (kind, values)


@pytest.mark.parametrize("query", ["pneu de caminhão", "seguro de vida", "asdfgh", "kkkk", "passagem aérea Lisboa"])
def test_queries_for_what_the_shop_does_not_sell_have_low_confidence(sample_index: SearchIndex, query: str) -> None:
    hits = sample_index.search(query, limit=5).hits
    assert hits and max(hit.confidence for hit in hits) < 0.5


@pytest.mark.parametrize("query", ["cafeteira 110v", "camiseta preta", "tem air fryer?", "ração de gato", "geladeira"])
def test_queries_for_what_the_shop_sells_have_high_confidence(sample_index: SearchIndex, query: str) -> None:
    best = sample_index.search(query, limit=5).hits[0]
    assert best.confidence > 0.5


def test_confidence_separates_a_match_from_the_best_of_nothing(sample_index: SearchIndex) -> None:
    good = sample_index.search("camiseta preta", limit=1).hits[0]
    bad = sample_index.search("pneu de caminhão", limit=1).hits[0]
    assert good.confidence - bad.confidence > 0.5
