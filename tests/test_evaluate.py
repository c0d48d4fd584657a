"""Tests of odoo_search_lib.evaluate: graded metrics, query and label files, and the two baselines."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from odoo_search_lib.evaluate import (
    average,
    by_type,
    evaluate_run,
    load_qrels,
    load_queries,
    load_query_types,
    metrics_for,
    per_query,
    rank_bm25_ranker,
    substring_ranker,
)
from odoo_search_lib.exceptions import InvalidInputError
from odoo_search_lib.types import Document


def log2(x: float) -> float:
    return math.log(x, 2)


def test_metrics_hand_computed() -> None:
    labels = {"a": 2, "b": 1, "c": 1, "z": 0}
    ranking = ["x", "b", "a", "y", "z"]  # "c" is never found
    # Gains 2^grade - 1: x=0, b=1, a=3, y=0, z=0; discounts log2(rank + 1) for ranks 1..5.
    dcg = 1 / log2(3) + 3 / log2(4)
    idcg = 3 / log2(2) + 1 / log2(3) + 1 / log2(4)
    metrics = metrics_for(ranking, labels)
    assert metrics == pytest.approx(
        {
            "ndcg@10": dcg / idcg,
            "recall@10": 2 / 3,
            "mrr@10": 1 / 2,
            "hit@10": 1.0,
        }
    )
    assert metrics["ndcg@10"] == pytest.approx(2.1309 / 4.1309, abs=1e-4)


def test_perfect_and_empty_rankings() -> None:
    labels = {"a": 2, "b": 1}
    assert metrics_for(["a", "b", "x"], labels) == {"ndcg@10": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "hit@10": 1.0}
    assert metrics_for([], labels) == {"ndcg@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "hit@10": 0.0}


def test_hit_requires_grade_two() -> None:
    labels = {"a": 2, "b": 1}
    only_partial = metrics_for(["b"], labels)
    assert only_partial["hit@10"] == 0.0
    assert only_partial["mrr@10"] == 1.0  # MRR counts any labelled document
    assert only_partial["recall@10"] == 0.5


def test_cutoff_ignores_later_ranks() -> None:
    labels = {"a": 2}
    ranking = [f"x{i}" for i in range(10)] + ["a"]
    assert metrics_for(ranking, labels) == {"ndcg@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "hit@10": 0.0}
    at_three = metrics_for(["x", "y", "a"], labels, cutoff=3)
    assert at_three == pytest.approx({"ndcg@3": 1 / log2(4), "recall@3": 1.0, "mrr@3": 1 / 3, "hit@3": 1.0})


def test_no_relevant_labels() -> None:
    assert metrics_for(["a"], {"a": 0}) == {"ndcg@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "hit@10": 0.0}


def test_evaluate_run_averages_labelled_queries() -> None:
    queries = {"q1": "one", "q2": "two", "q3": "unlabelled"}
    qrels = {"q1": {"a": 2}, "q2": {"b": 1, "c": 2}}
    rankings = {"one": ["a"], "two": ["x", "b"], "unlabelled": ["a"]}
    seen: list[str] = []

    def ranker(text: str) -> list[str]:
        seen.append(text)
        return rankings[text]

    result = evaluate_run(queries, qrels, ranker)
    assert seen == ["one", "two"]  # unlabelled queries are not run
    q2 = metrics_for(["x", "b"], qrels["q2"])
    assert q2["mrr@10"] == 0.5 and q2["hit@10"] == 0.0 and q2["recall@10"] == 0.5
    expected = {name: round((1.0 + q2[name]) / 2, 4) for name in q2}
    assert result == expected
    assert result["mrr@10"] == 0.75 and result["hit@10"] == 0.5


def test_evaluate_run_without_labels() -> None:
    with pytest.raises(InvalidInputError) as info:
        evaluate_run({"q1": "x"}, {"q2": {"a": 2}, "q1": {}}, lambda text: [])
    assert info.value.code == "bad_qrels"


def test_per_query_average_and_by_type() -> None:
    queries = {"q1": "one", "q2": "two", "q3": "three", "q4": "unlabelled"}
    qrels = {"q1": {"a": 2}, "q2": {"b": 1, "c": 2}, "q3": {"d": 2}}
    rankings = {"one": ["a"], "two": ["x", "b"], "three": [], "unlabelled": ["a"]}
    results = per_query(queries, qrels, lambda text: rankings[text], cutoffs=(10, 1))
    assert list(results) == ["q1", "q2", "q3"]
    assert results["q1"] == {"ndcg@10": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "hit@10": 1.0} | {
        "ndcg@1": 1.0,
        "recall@1": 1.0,
        "mrr@1": 1.0,
        "hit@1": 1.0,
    }
    assert results["q2"]["mrr@10"] == 0.5 and results["q2"]["mrr@1"] == 0.0
    assert average(results)["mrr@10"] == 0.5  # (1 + 0.5 + 0) / 3
    assert average(results)["hit@1"] == round(1 / 3, 4)
    types = {"q1": "synonym", "q2": "exact", "q3": "synonym", "q4": "exact"}
    grouped = by_type(results, types)
    assert list(grouped) == ["exact", "synonym"]  # alphabetical; q4 is unlabelled and counts nowhere
    assert grouped["exact"] == average({"q2": results["q2"]})
    assert grouped["synonym"]["ndcg@10"] == 0.5 and grouped["synonym"]["hit@10"] == 0.5
    assert by_type(results, {"q1": "synonym"}) == {"synonym": average({"q1": results["q1"]})}
    assert by_type(results, {}) == {}


def test_load_queries(tmp_path: Path) -> None:
    path = tmp_path / "queries.tsv"
    path.write_text("q1\tcamiseta azul\n\nq2\t  tênis de corrida  \r\n", encoding="utf-8")
    assert load_queries(path) == {"q1": "camiseta azul", "q2": "tênis de corrida"}
    assert load_query_types(path) == {}


def test_load_queries_with_types(tmp_path: Path) -> None:
    path = tmp_path / "queries.tsv"
    path.write_text("q1\tgeladeirinha\tsynonym\n\nq2\tpra dormir no frio\t use_case \r\nq3\tcom\ttab\n")
    assert load_queries(path) == {"q1": "geladeirinha", "q2": "pra dormir no frio", "q3": "com"}
    assert load_query_types(path) == {"q1": "synonym", "q2": "use_case", "q3": "tab"}


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("q1\tok\tsynonym\nq2\tok\tSynonym\n", 2),
        ("q1\tok\tuse case\n", 1),
        ("q1\tok\t\n", 1),
        ("q1\tok\t  \n", 1),
        ("q1\tok\t2nd\n", 1),
        ("q1\tok\tsinônimo\n", 1),
        ("q1\tok\t" + "x" * 41 + "\n", 1),
        ("q1\tok\tsynonym\nq2\tsem tipo\nq3\tok\texact\n", 2),
        ("q1\tsem tipo\nq2\tok\texact\n", 1),
    ],
)
def test_load_queries_malformed_type(tmp_path: Path, content: str, line: int) -> None:
    path = tmp_path / "queries.tsv"
    path.write_text(content, encoding="utf-8")
    for load in (load_queries, load_query_types):
        with pytest.raises(InvalidInputError) as info:
            load(path)
        assert f"{path}:{line}:" in str(info.value)
        assert info.value.code == "bad_query_type"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("q1\tok\nno tab here\n", 2),
        ("q1\tok\n\n\tmissing id\n", 3),
        ("q1\t   \n", 1),
        ("q1\t  \tsynonym\n", 1),
        ("q1\tok\tsynonym\textra\n", 1),
    ],
)
def test_load_queries_malformed(tmp_path: Path, content: str, line: int) -> None:
    path = tmp_path / "queries.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_queries(path)
    assert f"{path}:{line}:" in str(info.value)
    assert info.value.code == "bad_queries"


def test_load_queries_empty_missing_and_binary(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no queries") as info:
        load_queries(empty)
    assert info.value.code == "bad_queries"
    with pytest.raises(InvalidInputError) as info:
        load_queries(tmp_path / "missing.tsv")
    assert info.value.code == "unreadable_file"
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"q1\t\xff\xfe\n")
    with pytest.raises(InvalidInputError) as info:
        load_queries(binary)
    assert info.value.code == "not_utf8"


def test_load_qrels(tmp_path: Path) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text("q1\t0\tp1\t2\nq1 0 p2 1\n\nq2\t0\tp1\t0\nq1\t0\tp1\t1\n", encoding="utf-8")
    # A repeated (query, document) pair keeps the last grade.
    assert load_qrels(path) == {"q1": {"p1": 1, "p2": 1}, "q2": {"p1": 0}}


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("q1\t0\tp1\t2\nq1\t0\tp2\n", 2),
        ("q1\t0\tp1\thigh\n", 1),
        ("q1\t0\tp1\t2\t9\n", 1),
        ("q1\t0\tp1\t2\n\nq1\t0\tp2\t1.5\n", 3),
    ],
)
def test_load_qrels_malformed(tmp_path: Path, content: str, line: int) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_qrels(path)
    assert f"{path}:{line}:" in str(info.value)
    assert info.value.code == "bad_qrels"


CATALOG = [
    Document("p3", "camiseta Verde"),
    Document("p1", "Camiseta Azul", description="algodão"),
    Document("p2", "Calça Jeans", description="jeans azul escuro"),
    Document("p4", "Bola de Futebol", category="Esportes", tags=("campo",)),
    Document("p5", "CAMISETA branca"),
]


def test_substring_ranker_is_case_insensitive_and_ordered_by_name() -> None:
    rank = substring_ranker(CATALOG)
    assert rank("CAMISETA") == ["p1", "p5", "p3"]  # azul, branca, verde
    assert rank("eta azu") == ["p1"]
    assert rank("azul") == ["p1"]  # names only, not descriptions
    assert rank("camisetas") == []  # a substring, not a stem
    assert rank("") == ["p4", "p2", "p1", "p5", "p3"]


def test_substring_ranker_cuts_at_ten() -> None:
    documents = [Document(f"d{i:02d}", f"Item {i:02d}") for i in range(15)]
    assert substring_ranker(documents)("item") == [f"d{i:02d}" for i in range(10)]


def test_rank_bm25_ranker_returns_only_positive_scores() -> None:
    rank = rank_bm25_ranker(CATALOG)
    assert rank("jeans") == ["p2"]
    assert rank("nada parecido") == []
    assert rank("campo") == ["p4"]  # tags are indexed
    assert rank("esportes") == ["p4"]  # and the category
    # "azul" is in the name of p1 and the description of p2; "camiseta" in three names.
    assert set(rank("azul")) == {"p1", "p2"}
    # Equal scores for the two-word names (ties broken by id), the longer p1 last.
    assert rank("camiseta") == ["p3", "p5", "p1"]


def test_rank_bm25_ranker_prefers_more_matching_terms() -> None:
    rank = rank_bm25_ranker(CATALOG)
    assert rank("camiseta azul")[0] == "p1"
    assert rank("calça jeans azul")[0] == "p2"
