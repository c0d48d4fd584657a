"""The odoo-search command line: every command, JSON output, exit codes and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from odoo_search_lib.cli import main

DATA = Path(str(resources.files("odoo_search_lib") / "data"))
PRODUCTS = [
    {
        "id": "a1",
        "name": "Camiseta Básica Preta",
        "category": "Roupas > Camisetas",
        "price": 49.9,
        "in_stock": True,
        "attributes": {"Tamanho": ["P", "M"]},
    },
    {
        "id": "a2",
        "name": "Tênis de Corrida Azul",
        "category": "Calçados > Tênis",
        "price": 299.0,
        "in_stock": False,
        "attributes": {"Número": [38, 39, 40]},
    },
    {"id": "a3", "name": "Fone Bluetooth", "category": "Eletrônicos > Fones", "price": 129.0, "company_id": 2},
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)


def write_jsonl(path: Path, rows: list[object], extra_lines: tuple[bytes, ...] = ()) -> Path:
    with open(path, "wb") as handle:
        for row in rows:
            handle.write(json.dumps(row).encode() + b"\n")
        for line in extra_lines:
            handle.write(line + b"\n")
    return path


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    code, result = run(
        capsys, "index", str(write_jsonl(tmp_path / "p.jsonl", PRODUCTS)), "--store", str(store), "--json"
    )
    assert code == 0 and result["indexed"] == 3
    return store


@pytest.mark.slow
def test_demo_indexes_the_sample_and_searches(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "demo", "--json")
    assert code == 0
    assert result["indexed"] >= 300
    by_query = {search["query"]: search for search in result["searches"]}
    assert "camiseta" in by_query["camizeta"]["results"][0]["name"].lower()
    filtered = by_query["tênis"]["results"]
    assert filtered and all(row["in_stock"] and row["price"] <= 300 for row in filtered)


@pytest.mark.slow
def test_demo_prints_readable_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "Indexed" in out and '"camizeta"' in out and "score" in out


def test_index_then_search(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "search", "camiseta preta", "--store", str(store), "--json", "--limit", "2")
    assert code == 0
    assert result["results"][0]["id"] == "a1"
    assert set(result["results"][0]["scores"]) <= {"dense", "bm25", "chars"}
    code, result = run(
        capsys, "search", "tenis", "--store", str(store), "--json", "--filter", "in_stock=false", "--method", "bm25"
    )
    assert [row["id"] for row in result["results"]] == ["a2"]
    code, result = run(capsys, "search", "fone", "--store", str(store), "--json", "--filter", "company_id=1")
    assert "a3" not in [row["id"] for row in result["results"]]


def test_search_says_what_it_understood(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "search", "camiseta preta ate 5 reais", "--store", str(store), "--json")
    assert code == 0 and result["results"], "an impossible budget is relaxed, not an empty answer"
    assert result["understood"] == [{"kind": "price_max", "value": 5.0, "text": "ate 5 reais", "applied": "relaxed"}]
    assert main(["search", "camiseta preta ate 5 reais", "--store", str(store)]) == 0
    assert "understood: price_max 5.0 ('ate 5 reais', relaxed)" in capsys.readouterr().out


def test_index_refresh_writes_only_changes(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    products = write_jsonl(tmp_path / "p.jsonl", PRODUCTS)
    code, result = run(capsys, "index", str(products), "--store", str(store), "--json", "--refresh")
    assert code == 0
    assert (result["written"], result["unchanged"], result["deleted"], result["indexed"]) == (0, 3, 0, 3)
    renamed = [{**PRODUCTS[0], "name": "Regata Preta"}, PRODUCTS[1]]
    code, result = run(
        capsys, "index", str(write_jsonl(tmp_path / "q.jsonl", renamed)), "--store", str(store), "--json", "--refresh"
    )
    assert (result["written"], result["unchanged"], result["deleted"], result["indexed"]) == (1, 1, 1, 2)
    assert main(["index", str(products), "--store", str(store), "--refresh"]) == 0
    assert "(2 written, 1 unchanged, 0 deleted)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "error"),
    [
        (["--filter", "colour=red"], 2, "unknown_filter"),
        (["--filter", "price_min"], 2, "invalid_filter"),
        (["--filter", "price_min=abc"], 2, "invalid_filter"),
        (["--filter", "attributes=Tamanho:38"], 2, "invalid_filter"),
        (["--filter", 'attributes={"Tamanho": [[38]]}'], 2, "invalid_filter"),
    ],
)
def test_search_rejects_bad_filters(
    store: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, error: str
) -> None:
    got, result = run(capsys, "search", "camiseta", "--store", str(store), "--json", *argv)
    assert (got, result["error"]["code"]) == (code, error)


def test_search_filters_by_a_list_attribute(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(
        capsys, "search", "azul", "--store", str(store), "--json", "--filter", 'attributes={"numero": [39, 41]}'
    )
    assert code == 0 and [row["id"] for row in result["results"]] == ["a2"]


def test_search_rejects_an_empty_query_and_clamps_the_limit(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "search", "   ", "--store", str(store), "--json")
    assert (code, result["error"]["code"]) == (2, "empty_query")
    for limit, expected in (("0", 1), ("-3", 1), ("100000", 3)):
        code, result = run(capsys, "search", "camiseta", "--store", str(store), "--json", "--limit", limit)
        assert code == 0 and len(result["results"]) == expected


def test_search_min_confidence_cuts_weak_hits(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, everything = run(capsys, "search", "camiseta preta", "--store", str(store), "--json")
    assert code == 0 and len(everything["results"]) == 3
    floor = round(everything["results"][0]["confidence"] - 0.0001, 4)  # printed rounded to 4 places
    code, kept = run(
        capsys, "search", "camiseta preta", "--store", str(store), "--json", "--min-confidence", str(floor)
    )
    assert code == 0 and [row["id"] for row in kept["results"]] == [
        row["id"] for row in everything["results"] if row["confidence"] >= floor
    ]
    assert len(kept["results"]) < 3
    code, none = run(capsys, "search", "camiseta preta", "--store", str(store), "--json", "--min-confidence", "1")
    assert code == 0 and none["results"] == []


@pytest.mark.parametrize("value", ["-0.5", "1.01", "nan", "abc", "", "inf"])
def test_search_rejects_a_bad_min_confidence(store: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, result = run(capsys, "search", "camiseta", "--store", str(store), "--json", f"--min-confidence={value}")
    assert (code, result["error"]["code"]) == (2, "invalid_min_confidence")


def test_search_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "search", "x", "--store", str(tmp_path / "none"), "--json")
    assert (code, result["error"]["code"]) == (2, "no_store")


def test_a_bad_line_stops_the_import_before_the_store_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", PRODUCTS, (b'{"id": "x", "name": ', b'{"id": "y"}'))
    store = tmp_path / "store"
    code, result = run(capsys, "index", str(path), "--store", str(store), "--json")
    assert code == 2
    assert result["error"]["code"] == "bad_json" and "line 4" in result["error"]["message"]
    assert not (store / "collections").exists() or not any((store / "collections").iterdir())


def test_skip_mode_reports_bad_lines_and_repeated_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [*PRODUCTS, {**PRODUCTS[0], "name": "Camiseta Nova"}]
    path = write_jsonl(tmp_path / "mixed.jsonl", rows, (b"not json", b'{"id": "no-name"}', b"[1, 2]"))
    code, result = run(capsys, "index", str(path), "--store", str(tmp_path / "s"), "--json", "--on-error", "skip")
    assert code == 0
    assert result["indexed"] == 3
    assert [(row["line"], row["code"]) for row in result["skipped"]] == [
        (5, "bad_json"),
        (6, "missing_name"),
        (7, "not_an_object"),
    ]
    assert result["duplicates"] == ["a1"]


def test_skip_mode_skips_hostile_lines_and_indexes_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = (
        b'{"id": "deep", "name": "N", "extra": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"id": "nan", "name": "N", "extra": {"peso": NaN}}',
        b'{"id": "priced", "name": "N", "extra": {"price": 0}}',
    )
    path = write_jsonl(tmp_path / "hostile.jsonl", PRODUCTS, hostile)
    code, result = run(capsys, "index", str(path), "--store", str(tmp_path / "s"), "--json", "--on-error", "skip")
    assert code == 0 and result["indexed"] == 3
    assert [(row["line"], row["code"]) for row in result["skipped"]] == [
        (4, "too_deep"),
        (5, "non_finite_number"),
        (6, "reserved_extra_key"),
    ]


def test_a_non_utf8_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"id": "1", "name": "Calção"}\n'.encode("latin-1"))
    code, result = run(capsys, "index", str(path), "--store", str(tmp_path / "s"), "--json")
    assert (code, result["error"]["code"]) == (2, "not_utf8")


def test_an_empty_or_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    code, result = run(capsys, "index", str(tmp_path / "empty.jsonl"), "--store", str(tmp_path / "s"), "--json")
    assert (code, result["error"]["code"]) == (2, "no_documents")
    code, result = run(capsys, "index", str(tmp_path / "nope.jsonl"), "--store", str(tmp_path / "s"), "--json")
    assert (code, result["error"]["code"]) == (2, "unreadable_file")


@pytest.mark.slow
def test_eval_prints_one_object_with_every_method(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(
        capsys,
        "eval",
        "--products",
        str(DATA / "sample_products.jsonl"),
        "--queries",
        str(DATA / "sample_queries.tsv"),
        "--qrels",
        str(DATA / "sample_qrels.tsv"),
        "--json",
    )
    assert code == 0
    assert result["queries"] >= 60
    assert set(result["methods"]) == {"hybrid", "bm25", "dense", "substring", "rank_bm25"}
    for values in result["methods"].values():
        assert set(values) == {"ndcg@10", "recall@10", "mrr@10", "hit@10"}
        assert all(0.0 <= value <= 1.0 for value in values.values())


def test_eval_one_baseline_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    products = str(write_jsonl(tmp_path / "p.jsonl", PRODUCTS))
    (tmp_path / "q.tsv").write_text("q1\tcamiseta\n")
    (tmp_path / "r.tsv").write_text("q1\t0\ta1\t2\n")
    code, result = run(
        capsys,
        "eval",
        "--products",
        products,
        "--queries",
        str(tmp_path / "q.tsv"),
        "--qrels",
        str(tmp_path / "r.tsv"),
        "--method",
        "substring",
        "--json",
    )
    assert code == 0 and result["methods"]["substring"]["hit@10"] == 1.0
    (tmp_path / "bad.tsv").write_text("only-one-column\n")
    code, result = run(
        capsys,
        "eval",
        "--products",
        products,
        "--queries",
        str(tmp_path / "bad.tsv"),
        "--qrels",
        str(tmp_path / "r.tsv"),
        "--json",
    )
    assert (code, result["error"]["code"]) == (2, "bad_queries")


def test_eval_reports_every_method_per_query_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    products = str(write_jsonl(tmp_path / "p.jsonl", PRODUCTS))
    (tmp_path / "q.tsv").write_text(
        "q1\tcamiseta\tcategory\nq2\tfone bluetooth\texact\nq3\tblusa\tsynonym\nq4\ttenis\tcategory\nq5\tnada\tchat\n"
    )
    # q5 has no labels: it is not run and its type is not reported.
    (tmp_path / "r.tsv").write_text("q1\t0\ta1\t2\nq2\t0\ta3\t2\nq3\t0\ta1\t1\nq4\t0\ta2\t2\n")
    argv = ["eval", "--products", products, "--queries", str(tmp_path / "q.tsv"), "--qrels", str(tmp_path / "r.tsv")]
    code, result = run(capsys, *argv, "--method", "substring", "--json")
    assert code == 0 and result["queries"] == 4
    assert result["methods"]["substring"] == {"ndcg@10": 0.5, "recall@10": 0.5, "mrr@10": 0.5, "hit@10": 0.5}
    assert list(result["by_type"]) == ["category", "exact", "synonym"]
    assert result["by_type"]["category"] == {
        "queries": 2,
        "methods": {"substring": {"ndcg@10": 0.5, "recall@10": 0.5, "mrr@10": 0.5, "hit@10": 0.5}},
    }  # "camiseta" is a substring of a1's name; "tenis", without its accent, is not one of a2's
    assert result["by_type"]["exact"]["methods"]["substring"]["hit@10"] == 1.0
    assert result["by_type"]["synonym"] == {
        "queries": 1,
        "methods": {"substring": {"ndcg@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "hit@10": 0.0}},
    }
    assert main([*argv, "--method", "rank_bm25"]) == 0
    text = capsys.readouterr().out
    assert "4 labelled queries, 3 products" in text
    for heading in ("category (2 queries)", "exact (1 queries)", "synonym (1 queries)"):
        assert heading in text
    assert text.count("rank_bm25") == 4  # overall and once per type
    assert "chat" not in text
    (tmp_path / "plain.tsv").write_text("q1\tcamiseta\n")
    argv[4] = str(tmp_path / "plain.tsv")
    code, result = run(capsys, *argv, "--method", "substring", "--json")
    assert code == 0 and "by_type" not in result
    assert main([*argv, "--method", "substring"]) == 0
    assert "queries)" not in capsys.readouterr().out
    (tmp_path / "bad.tsv").write_text("q1\tcamiseta\tCategoria Nova\n")
    argv[4] = str(tmp_path / "bad.tsv")
    code, result = run(capsys, *argv, "--method", "substring", "--json")
    assert (code, result["error"]["code"]) == (2, "bad_query_type")
    assert "bad.tsv:1:" in result["error"]["message"]


@pytest.mark.slow
def test_bench_reports_the_documented_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "bench", "--n", "300", "--queries", "5", "--json", "--cache-dir", str(tmp_path))
    assert code == 0
    assert result["n"] == 300 and result["index_per_s"] > 0 and result["peak_rss_mb"] > 0
    assert set(result["query_ms"]) == {"bm25", "dense", "hybrid"}
    assert all(values["p95"] >= values["p50"] > 0 for values in result["query_ms"].values())
    assert result["refresh_unchanged_per_s"] > 0 and result["refresh_written"] == 0, "nothing changed"
    rounds = result["index_rounds"]
    assert len(rounds) == 3 and all(r["index_per_s"] > 0 and r["embed_single_thread_per_s"] > 0 for r in rounds)
    assert result["index_per_s"] == sorted(r["index_per_s"] for r in rounds)[1], "the median round"
    code, result = run(capsys, "bench", "--n", "0", "--json")
    assert (code, result["error"]["code"]) == (2, "invalid_argument")


@pytest.mark.slow
def test_the_console_script_runs_as_a_process(store: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "odoo_search_lib.cli", "search", "fone", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["results"][0]["id"] == "a3"
    completed = subprocess.run(
        [sys.executable, "-m", "odoo_search_lib.cli", "search", "", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2 and "error: the query is empty" in completed.stderr


def test_eval_and_demo_never_touch_a_configured_qdrant_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, local_server
) -> None:
    """In a shell set up for a live Qdrant server, eval and demo still use a throw-away embedded store."""
    from tests.localhttp import Reply

    qdrant = local_server(lambda request: Reply(500, {"status": {"error": "a live tenant's server"}}))
    monkeypatch.setenv("ODOO_SEARCH_STORE__BACKEND", "qdrant")
    monkeypatch.setenv("ODOO_SEARCH_STORE__URL", qdrant.url)
    products = str(write_jsonl(tmp_path / "p.jsonl", PRODUCTS))
    (tmp_path / "q.tsv").write_text("q1\tcamiseta\n")
    (tmp_path / "r.tsv").write_text("q1\t0\ta1\t2\n")
    argv = ["eval", "--products", products, "--queries", str(tmp_path / "q.tsv"), "--qrels", str(tmp_path / "r.tsv")]
    code, result = run(capsys, *argv, "--method", "bm25", "--json")
    assert code == 0 and result["methods"]["bm25"]["hit@10"] == 1.0
    code, result = run(capsys, "demo", "--limit", "1", "--json")
    assert code == 0 and result["indexed"] >= 300
    assert qdrant.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "--json"],
        ["index", "--json", "--on-error", "maybe", "x.jsonl"],
        ["--json", "nope"],
        ["demo", "--json", "--limit", "x"],
        ["index", "--json", "--store", "s", "--refresh", "--fresh", "x.jsonl"],  # in place, or a new collection
    ],
)
def test_json_usage_errors_are_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, *argv)
    assert code == 2 and result["error"]["code"] == "usage_error" and result["error"]["message"]


def test_usage_errors_without_json_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "usage:" in captured.err and "required" in captured.err
