"""Business rules: the import format, passages, the validity filter on both backends, and the eval figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest

from odoo_search_lib import Settings
from odoo_search_lib.cli import main
from odoo_search_lib.documents import MAX_LINE_BYTES
from odoo_search_lib.exceptions import DocumentError, InvalidInputError, QueryError
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.rules import (
    MAX_PASSAGES,
    PASSAGE_CHARS,
    RULE_TYPES,
    Rule,
    RuleIndex,
    load_rules,
    parse_moment,
    rule_from_dict,
    split_passages,
)
from tests.conftest import MINI_CATALOGUE, HashingEmbedder
from tests.test_backends import open_backend

DATA = Path(str(resources.files("odoo_search_lib") / "data"))
BRT = timezone(timedelta(hours=-3))
AT = "2026-12-01"


def rule(**fields: object) -> Rule:
    return rule_from_dict({"id": "r1", "type": "faq", "title": "Título", **fields})


def write_jsonl(path: Path, rows: list[object], extra_lines: tuple[bytes, ...] = ()) -> Path:
    with open(path, "wb") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        for line in extra_lines:
            handle.write(line + b"\n")
    return path


# -- the import format ------------------------------------------------------------


def test_dates_are_whole_days_and_datetimes_exact() -> None:
    parsed = rule(valid_from="2026-11-23", valid_to="2026-11-30")
    assert parsed.valid_from == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert parsed.valid_to == datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=timezone.utc)
    aware = rule(valid_to="2026-12-07T23:59:59-03:00")
    assert aware.valid_to == datetime(2026, 12, 8, 2, 59, 59, tzinfo=timezone.utc)
    naive = rule_from_dict({"id": "r", "type": "faq", "title": "t", "valid_from": "2026-12-01T08:00"}, tz=BRT)
    assert naive.valid_from == datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    # What an Odoo record holds: date objects, and False for an empty field.
    odoo = rule(valid_from=date(2026, 1, 1), valid_to=False, question=False, company_id=False, tags=False)
    assert odoo.valid_from == datetime(2026, 1, 1, tzinfo=timezone.utc) and odoo.valid_to is None
    assert odoo.company_id is None and odoo.tags == ()


def test_status_at_the_edges() -> None:
    promo = rule(valid_from="2026-11-23", valid_to="2026-11-30")
    assert promo.status(parse_moment("2026-11-22T23:59:59")) == "scheduled"
    assert promo.status(parse_moment("2026-11-23")) == "active"
    assert promo.status(parse_moment("2026-11-30T23:59:59")) == "active"
    assert promo.status(parse_moment("2026-12-01")) == "expired"
    assert rule().status(parse_moment("1900-01-01")) == "active"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"valid_from": "2026-12-10", "valid_to": "2026-12-01"}, "bad_validity"),
        ({"valid_from": "2026-12-01T10:00:00-03:00", "valid_to": "2026-12-01T09:00:00-03:00"}, "bad_validity"),
        ({"valid_from": "01/12/2026"}, "bad_date"),
        ({"valid_to": "2026-02-30"}, "bad_date"),
        ({"valid_to": 20261201}, "bad_date"),
        ({"type": "discount"}, "bad_type"),
        ({"type": None}, "bad_type"),
        ({"title": "  "}, "missing_title"),
        ({"title": "x" * 501}, "bad_field"),
        ({"content": ["a"]}, "bad_field"),
        ({"products": "p1"}, "bad_field"),
        ({"categories": [""]}, "bad_field"),
        ({"company_id": 0}, "bad_field"),
        ({"priority": "high"}, "bad_field"),
        ({"coupon_code": 10}, "bad_field"),
        ({"colour": "red"}, "unknown_field"),
        ({"id": ""}, "missing_id"),
        ({"id": "a#1"}, "bad_id"),
    ],
)
def test_bad_fields_are_refused_with_a_code(fields: dict[str, object], code: str) -> None:
    with pytest.raises(DocumentError) as caught:
        rule(**fields)
    assert caught.value.code == code


def test_html_is_reduced_to_visible_text() -> None:
    parsed = rule(
        content="<p>Frete <b>grátis</b> acima de R$ 199</p><script>alert('x')</script><style>p{}</style>",
        question="<i>Tem frete grátis?</i>",
    )
    assert parsed.content == "Frete grátis acima de R$ 199"
    assert parsed.question == "Tem frete grátis?"


def test_load_rules_reports_bad_lines_with_their_number(tmp_path: Path) -> None:
    good = {"id": "ok", "type": "hours", "title": "Horário", "content": "Das 8h às 18h."}
    path = write_jsonl(
        tmp_path / "rules.jsonl",
        [good, {"id": "late", "type": "promotion", "title": "P", "valid_from": "2026-12-02", "valid_to": "2026-12-01"}],
        extra_lines=(
            b"{not json",
            b"[1, 2]",
            b'{"id": "x", "type": "faq", "title": "\xff"}',
            b"x" * (MAX_LINE_BYTES + 1),
        ),
    )
    with pytest.raises(DocumentError) as caught:
        load_rules(path)
    assert (caught.value.line, caught.value.code) == (2, "bad_validity")
    report = load_rules(path, on_error="skip")
    assert [r.id for r in report.rules] == ["ok"]
    assert [(e.line, e.code) for e in report.errors] == [
        (2, "bad_validity"),
        (3, "bad_json"),
        (4, "not_an_object"),
        (5, "not_utf8"),
        (6, "line_too_long"),
    ]


def test_sample_rules_load_and_cover_every_type() -> None:
    report = load_rules(DATA / "sample_rules.jsonl")
    assert not report.errors and not report.duplicates and len(report.rules) >= 30
    assert {r.type for r in report.rules} == set(RULE_TYPES)
    statuses = {r.status(parse_moment(AT)) for r in report.rules if r.type == "promotion"}
    assert statuses == {"active", "expired", "scheduled"}


# -- passages ----------------------------------------------------------------------


def test_passages_follow_sentences_and_are_bounded() -> None:
    sentences = [f"Frase número {n} sobre a política de trocas da loja." for n in range(60)]
    passages = split_passages(" ".join(sentences))
    assert all(len(p) <= PASSAGE_CHARS for p in passages) and len(passages) > 1
    assert all(p.endswith(".") for p in passages)  # cut between sentences
    assert " ".join(passages) == " ".join(sentences)
    long_word = split_passages("a" * (PASSAGE_CHARS * 2 + 5))
    assert [len(p) for p in long_word] == [PASSAGE_CHARS, PASSAGE_CHARS, 5]
    assert split_passages("   ") == []


# -- the index, on both backends -----------------------------------------------------

RULES = [
    {
        "id": "pix",
        "type": "payment",
        "title": "Desconto no Pix",
        "content": "Pagando com Pix você ganha 5% de desconto.",
    },
    {
        "id": "black",
        "type": "promotion",
        "title": "Black Friday: cupom BLACK40",
        "content": "Cupom de desconto BLACK40 em eletrônicos.",
        "valid_from": "2026-11-23",
        "valid_to": "2026-11-30",
        "coupon_code": "BLACK40",
    },
    {
        "id": "cyber",
        "type": "promotion",
        "title": "Cyber Week: cupom CYBER10",
        "content": "Cupom de desconto CYBER10 em todo o site.",
        "valid_from": "2026-12-01",
        "valid_to": "2026-12-07T23:59:59-03:00",
        "coupon_code": "CYBER10",
        "products": ["p1", "p2"],
        "categories": ["Eletrônicos"],
    },
    {
        "id": "saldao",
        "type": "promotion",
        "title": "Saldão de janeiro: cupom SALDAO30",
        "content": "Cupom de desconto SALDAO30 em roupas.",
        "valid_from": "2027-01-02",
        "valid_to": "2027-01-31",
    },
    {
        "id": "empresa",
        "type": "faq",
        "title": "Cupom corporativo",
        "content": "Cupom de desconto para empresas.",
        "company_id": 2,
    },
    {
        "id": "trocas",
        "type": "returns",
        "title": "Trocas e devoluções",
        "content": " ".join(f"Parágrafo {n} sobre prazos de entrega da transportadora." for n in range(40))
        + " Você tem 7 dias para devolver por arrependimento.",
    },
]


@pytest.fixture(params=["edge", "qdrant"])
def rules_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RuleIndex]:
    store = open_backend(request.param, tmp_path)
    settings = Settings.from_dict({"tenant": "t1"})
    with RuleIndex(settings, embedder=HashingEmbedder(), store=store) as index:
        index.upsert([rule_from_dict(row) for row in RULES])
        yield index
    store.close()


def test_only_rules_valid_at_the_moment_are_returned(rules_index: RuleIndex) -> None:
    found = rules_index.search("cupom de desconto", at=AT, limit=10)
    assert {"cyber", "pix"} <= set(found.ids())
    assert not {"black", "saldao"} & set(found.ids())
    assert all(hit.status == "active" for hit in found.hits)
    assert found.at == datetime(2026, 12, 1, tzinfo=timezone.utc)
    late_november = rules_index.search("cupom de desconto", at="2026-11-30T23:00:00", limit=10).ids()
    assert "black" in late_november and "cyber" not in late_november
    # The end is inclusive and aware: 2026-12-07 23:59:59 in Brasília is 02:59:59 UTC the next day.
    assert "cyber" in rules_index.search("cupom", at=datetime(2026, 12, 8, 2, 59, tzinfo=timezone.utc)).ids()
    assert "cyber" not in rules_index.search("cupom", at=datetime(2026, 12, 8, 3, 0, tzinfo=timezone.utc)).ids()
    assert "saldao" in rules_index.search("cupom de desconto", at="2027-01-15", limit=10).ids()


def test_inactive_rules_only_when_asked_for(rules_index: RuleIndex) -> None:
    found = rules_index.search("cupom de desconto", at=AT, limit=10, include_inactive=True)
    status = {hit.id: hit.status for hit in found.hits}
    assert status["black"] == "expired" and status["saldao"] == "scheduled" and status["cyber"] == "active"


def test_hit_fields(rules_index: RuleIndex) -> None:
    (hit,) = rules_index.search("cyber week", at=AT, limit=1).hits
    assert (hit.id, hit.type, hit.title, hit.coupon_code) == (
        "cyber",
        "promotion",
        "Cyber Week: cupom CYBER10",
        "CYBER10",
    )
    assert hit.products == ("p1", "p2") and hit.categories == ("Eletrônicos",)
    assert hit.valid_from == "2026-12-01T00:00:00+00:00" and hit.valid_to == "2026-12-07T23:59:59-03:00"
    assert hit.excerpt.startswith("Cupom de desconto CYBER10") and set(hit.scores) <= {"dense", "bm25", "chars"}
    row = hit.as_dict()
    assert json.loads(json.dumps(row)) == row and row["status"] == "active"


def test_types_and_company_filters(rules_index: RuleIndex) -> None:
    assert set(rules_index.search("desconto", at=AT, types=["payment"]).ids()) == {"pix"}
    assert "empresa" not in rules_index.search("cupom", at=AT, company_ids=[1], limit=10).ids()
    assert "empresa" in rules_index.search("cupom", at=AT, company_ids=[2], limit=10).ids()
    with pytest.raises(QueryError):
        rules_index.search("cupom", types=["discount"])
    with pytest.raises(QueryError):
        rules_index.search("cupom", types="promotion")  # type: ignore[arg-type]
    with pytest.raises(QueryError) as caught:
        rules_index.search("cupom", at="amanhã")
    assert caught.value.code == "invalid_at"


def test_long_rule_is_found_by_its_passage_and_returned_once(rules_index: RuleIndex) -> None:
    assert rules_index.count() > len(RULES)  # "trocas" is several passages
    found = rules_index.search("dias para devolver por arrependimento", at=AT, limit=10)
    assert found.ids().count("trocas") == 1 and found.ids()[0] == "trocas"
    assert "arrependimento" in found.hits[0].excerpt and found.hits[0].passage > 0


def test_edit_and_delete(rules_index: RuleIndex) -> None:
    before = rules_index.count()
    rules_index.upsert([rule_from_dict({"id": "trocas", "type": "returns", "title": "Trocas", "content": "Curto."})])
    assert rules_index.count() == before - len(split_passages(RULES[-1]["content"])) + 1  # stale passages gone
    assert rules_index.search("transportadora", at=AT, types=["returns"]).ids() == ["trocas"]
    rules_index.delete(["trocas", "unknown"])
    assert "trocas" not in rules_index.search("trocas", at=AT, limit=10).ids()
    with pytest.raises(InvalidInputError):
        rules_index.delete("pix")


def test_one_megabyte_of_content_is_indexed_within_the_passage_cap(tmp_path: Path) -> None:
    content = "<p>" + "Texto longo de regra com muitas frases. " * 26_000 + "</p><script>x()</script>"
    assert len(content) > 1_000_000
    path = write_jsonl(
        tmp_path / "big.jsonl", [{"id": "big", "type": "other", "title": "Regra enorme", "content": content}]
    )
    (big,) = load_rules(path).rules
    assert "x()" not in big.content
    settings = Settings.from_dict({"tenant": "big", "store": {"path": str(tmp_path / "store")}})
    with RuleIndex(settings, embedder=HashingEmbedder()) as index:
        index.upsert([big])
        assert index.count() == MAX_PASSAGES
        assert index.search("regra enorme", at=AT).ids() == ["big"]


def test_rules_share_the_products_store_without_mixing(tmp_path: Path) -> None:
    store = open_backend("edge", tmp_path)
    settings = Settings.from_dict({"tenant": "shop"})
    embedder = HashingEmbedder()
    with (
        SearchIndex(settings, embedder=embedder, store=store) as products,
        RuleIndex(settings, embedder=embedder, store=store) as rules,
    ):
        products.upsert(MINI_CATALOGUE)
        rules.upsert([rule_from_dict(row) for row in RULES])
        assert products.count() == len(MINI_CATALOGUE)
        assert all(not hit.id.startswith(("pix", "cyber")) for hit in products.search("desconto pix").hits)
        assert rules.search("camiseta", at=AT, limit=10).ids() != []
        assert not set(rules.search("camiseta", at=AT, limit=10).ids()) & {doc.id for doc in MINI_CATALOGUE}
    store.close()


def test_validity_filter_applies_in_every_signal(rules_index: RuleIndex) -> None:
    """Each single-signal search finds no expired rule, even for its exact coupon code."""
    for method in ("dense", "bm25", "hybrid"):
        found = rules_index.search("cupom BLACK40", at=AT, method=method, limit=10).ids()
        assert "black" not in found


# -- CLI -------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_cli_index_search_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "rules.jsonl", RULES[:4], extra_lines=(b"{bad",))
    store = str(tmp_path / "store")
    code, result = run(capsys, "index", "--kind", "rule", str(path), "--store", store, "--json")
    assert code == 2 and result["error"]["code"] == "bad_json" and "line 5" in result["error"]["message"]
    code, result = run(capsys, "index", "--kind", "rule", str(path), "--store", store, "--on-error", "skip", "--json")
    assert code == 0 and result["indexed"] == 4 and result["skipped"][0]["line"] == 5
    code, result = run(capsys, "search", "--kind", "rule", "cupom", "--store", store, "--at", AT, "--json")
    ids = [row["id"] for row in result["results"]]
    assert code == 0 and "cyber" in ids and "black" not in ids and result["at"] == "2026-12-01T00:00:00+00:00"
    code, result = run(
        capsys, "search", "--kind", "rule", "cupom", "--store", store, "--at", AT, "--type", "payment", "--json"
    )
    assert code == 0 and [row["id"] for row in result["results"]] == ["pix"]
    code, result = run(
        capsys, "search", "--kind", "rule", "cupom", "--store", store, "--at", AT, "--include-inactive", "--json"
    )
    assert {"black", "saldao"} <= {row["id"] for row in result["results"]}
    code, result = run(capsys, "search", "--kind", "rule", "cupom", "--store", store, "--at", "ontem", "--json")
    assert code == 2 and result["error"]["code"] == "bad_date"
    code, result = run(capsys, "search", "--kind", "rule", "x", "--store", store, "--tz", "Mars/Base", "--json")
    assert code == 2 and result["error"]["code"] == "bad_timezone"
    code, result = run(capsys, "search", "cupom", "--store", store, "--at", AT, "--json")
    assert code == 2 and result["error"]["code"] == "invalid_argument"  # --at on products


@pytest.mark.slow
def test_eval_on_the_sample_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures the README reports, with the real default model (written before tuning, never per query)."""
    code, result = run(
        capsys,
        "eval",
        "--kind",
        "rule",
        "--rules",
        str(DATA / "sample_rules.jsonl"),
        "--queries",
        str(DATA / "sample_rule_queries.tsv"),
        "--qrels",
        str(DATA / "sample_rule_qrels.tsv"),
        "--at",
        AT,
        "--method",
        "hybrid",
        "--json",
    )
    assert code == 0 and result["queries"] >= 40 and result["at"] == "2026-12-01T00:00:00+00:00"
    hybrid = result["methods"]["hybrid"]
    assert hybrid["hit@3"] >= 0.95 and hybrid["ndcg@5"] >= 0.85
    assert result["inactive_in_top5"] == {"hybrid": 0}


def test_cli_eval_shape_and_the_inactive_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write_jsonl(tmp_path / "rules.jsonl", RULES)
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tcupom black friday\nq2\tdesconto no pix\n", encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q1\t0\tcyber\t2\nq2\t0\tpix\t2\n", encoding="utf-8")
    common = ["eval", "--kind", "rule", "--rules", str(rules), "--queries", str(queries), "--qrels", str(qrels)]
    code, result = run(capsys, *common, "--at", AT, "--method", "bm25", "--json")
    assert code == 0 and result["queries"] == 2 and set(result["methods"]) == {"bm25"}
    assert {"ndcg@10", "recall@10", "mrr@10", "hit@10", "ndcg@5", "hit@3"} <= set(result["methods"]["bm25"])
    assert result["inactive_in_top5"] == {"bm25": 0} and result["active_rules"] == 4
    code, result = run(capsys, *common, "--at", AT, "--method", "bm25", "--include-inactive", "--json")
    assert code == 0 and result["inactive_in_top5"]["bm25"] >= 1  # "black" matches q1 once the filter is off
    code, result = run(capsys, "eval", "--kind", "rule", "--queries", str(queries), "--qrels", str(qrels), "--json")
    assert code == 2 and result["error"]["code"] == "invalid_argument"
