"""Tests of odoo_search_lib.documents: the JSON Lines import, validation, and the indexed texts and payload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from odoo_search_lib.documents import (
    DENSE_DESCRIPTION_CHARS,
    MAX_LINE_BYTES,
    check_document,
    dense_text,
    document_from_dict,
    load_jsonl,
    payload,
    sparse_text,
    typo_text,
)
from odoo_search_lib.exceptions import DocumentError, InvalidInputError
from odoo_search_lib.types import Document

SHIRT = {
    "id": "p1",
    "name": "Camiseta Básica",
    "description": "Camiseta de algodão penteado.",
    "category": "Roupas > Camisetas",
    "attributes": {"Cor": "Preta", "Tamanho": "M"},
    "price": 49.9,
    "currency": "BRL",
    "in_stock": True,
    "published": True,
    "tags": ["algodão", "verão"],
    "company_id": 1,
    "kind": "product",
    "extra": {"sku": "CB-01"},
}


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Write records (dicts are JSON-encoded, strings written as is) one per line."""
    text = "".join((json.dumps(line, ensure_ascii=False) if isinstance(line, dict) else line) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


# -- load_jsonl ---------------------------------------------------------------


def test_load_valid_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [SHIRT, {"id": 7, "name": "  Bola  "}])
    report = load_jsonl(path)
    assert report.errors == [] and report.duplicates == [] and report.lines == 2
    shirt, ball = report.documents
    assert shirt == Document(
        id="p1",
        name="Camiseta Básica",
        description="Camiseta de algodão penteado.",
        category="Roupas > Camisetas",
        attributes={"Cor": "Preta", "Tamanho": "M"},
        price=49.9,
        currency="BRL",
        in_stock=True,
        published=True,
        tags=("algodão", "verão"),
        company_id=1,
        kind="product",
        extra={"sku": "CB-01"},
    )
    # Integer ids become strings, names are stripped, absent fields take their defaults.
    assert ball == Document(id="7", name="Bola")


def test_load_accepts_str_path_and_no_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "name": "A"}\n{"id": "b", "name": "B"}', encoding="utf-8")
    assert [doc.id for doc in load_jsonl(str(path)).documents] == ["a", "b"]


def test_empty_lines_are_ignored_but_counted(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", ["", '{"id": "a", "name": "A"}', "   ", "\t", '{"id": "b", "name": "B"}'])
    report = load_jsonl(path)
    assert [doc.id for doc in report.documents] == ["a", "b"]
    assert report.errors == [] and report.lines == 5


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    report = load_jsonl(path)
    assert report.documents == [] and report.errors == [] and report.lines == 0


def test_malformed_json_stop_mode_reports_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [SHIRT, "", '{"id": "x", "name": ', {"id": "y", "name": "Y"}])
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert info.value.line == 3
    assert info.value.code == "bad_json"
    assert str(info.value).startswith("line 3: ")
    assert isinstance(info.value, InvalidInputError)


def test_malformed_json_skip_mode_keeps_good_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "p.jsonl",
        [
            {"id": "a", "name": "A"},
            "{not json",
            {"id": "b", "name": "B"},
            "[1, 2]",
            '{"id": "c"}',
            {"id": "d", "name": "D"},
        ],
    )
    report = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in report.documents] == ["a", "b", "d"]
    assert [(error.line, error.code) for error in report.errors] == [
        (2, "bad_json"),
        (4, "not_an_object"),
        (5, "missing_name"),
    ]
    assert report.lines == 6


def test_bad_on_error_value(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [SHIRT])
    with pytest.raises(ValueError, match="on_error"):
        load_jsonl(path, on_error="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"name": "No id"}, "missing_id"),
        ({"id": "", "name": "Blank id"}, "missing_id"),
        ({"id": "   ", "name": "Blank id"}, "missing_id"),
        ({"id": None, "name": "Null id"}, "missing_id"),
        ({"id": True, "name": "Bool id"}, "missing_id"),
        ({"id": 1.5, "name": "Float id"}, "missing_id"),
        ({"id": ["a"], "name": "List id"}, "missing_id"),
        ({"id": "x" * 201, "name": "Long id"}, "bad_id"),
        ({"id": "p"}, "missing_name"),
        ({"id": "p", "name": ""}, "missing_name"),
        ({"id": "p", "name": "  \t "}, "missing_name"),
        ({"id": "p", "name": 42}, "missing_name"),
        ({"id": "p", "name": "n" * 1001}, "bad_name"),
        ({"id": "p", "name": "N", "colour": "red"}, "unknown_field"),
        ({"id": "p", "name": "N", "price": -1}, "bad_field"),
        ({"id": "p", "name": "N", "price": -0.01}, "bad_field"),
        ({"id": "p", "name": "N", "price": "10"}, "bad_field"),
        ({"id": "p", "name": "N", "price": True}, "bad_field"),
        ({"id": "p", "name": "N", "price": [1]}, "bad_field"),
        ({"id": "p", "name": "N", "tags": "algodão"}, "bad_field"),
        ({"id": "p", "name": "N", "tags": ["ok", 3]}, "bad_field"),
        ({"id": "p", "name": "N", "tags": {"a": "b"}}, "bad_field"),
        ({"id": "p", "name": "N", "attributes": {"Cor": {"nested": "x"}}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": True}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": None}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": ["Preta", ["Branca"]]}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": ["Preta", {"x": 1}]}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": ["Preta", None]}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": ["Preta", False]}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": ["x" * 1001]}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Cor": "x" * 1001}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"C" * 1001: "x"}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": {"Tamanho": list(range(201))}}, "bad_attribute"),
        ({"id": "p", "name": "N", "attributes": ["Cor"]}, "bad_field"),
        ({"id": "p", "name": "N", "company_id": 0}, "bad_field"),
        ({"id": "p", "name": "N", "company_id": -3}, "bad_field"),
        ({"id": "p", "name": "N", "website_id": 0}, "bad_field"),
        ({"id": "p", "name": "N", "website_id": "1"}, "bad_field"),
        ({"id": "p", "name": "N", "company_id": True}, "bad_field"),
        ({"id": "p", "name": "N", "company_id": "1"}, "bad_field"),
        ({"id": "p", "name": "N", "company_id": 1.0}, "bad_field"),
        ({"id": "p", "name": "N", "in_stock": 1}, "bad_field"),
        ({"id": "p", "name": "N", "published": "yes"}, "bad_field"),
        ({"id": "p", "name": "N", "in_stock": None}, "bad_field"),
        ({"id": "p", "name": "N", "description": 5}, "bad_field"),
        ({"id": "p", "name": "N", "category": ["Roupas"]}, "bad_field"),
        ({"id": "p", "name": "N", "kind": 1}, "bad_field"),
        ({"id": "p", "name": "N", "extra": ["x"]}, "bad_field"),
    ],
)
def test_invalid_record_in_file(tmp_path: Path, record: dict[str, Any], code: str) -> None:
    path = write_lines(tmp_path / "p.jsonl", [{"id": "ok", "name": "Fine"}, record])
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert (info.value.line, info.value.code) == (2, code)
    skipped = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in skipped.documents] == ["ok"]
    assert [(error.line, error.code) for error in skipped.errors] == [(2, code)]


@pytest.mark.parametrize("line", ['"just a string"', "42", "null", "[]", "true"])
def test_non_object_line(tmp_path: Path, line: str) -> None:
    path = write_lines(tmp_path / "p.jsonl", [line])
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert (info.value.line, info.value.code) == (1, "not_an_object")


@pytest.mark.parametrize("field", [{"tags": 0}, {"tags": False}, {"attributes": []}, {"attributes": ""}])
def test_falsy_wrong_types_are_rejected(field: dict[str, Any]) -> None:
    with pytest.raises(DocumentError) as info:
        document_from_dict({"id": "p", "name": "N", **field})
    assert info.value.code == "bad_field"


def test_valid_edge_values() -> None:
    document = document_from_dict(
        {
            "id": " p ",
            "name": "N",
            "price": 0,
            "attributes": {"Voltagem": 220, "Peso": 1.5},
            "tags": [],
            "company_id": None,
            "kind": "",
            "in_stock": False,
            "published": False,
        }
    )
    assert document.id == "p"
    assert document.price == 0.0 and isinstance(document.price, float)
    assert document.attributes == {"Voltagem": "220", "Peso": "1.5"}
    assert document.company_id is None
    assert document.kind == "product"
    assert document.in_stock is False and document.published is False


def test_list_attributes_become_tuples_of_texts() -> None:
    document = document_from_dict(
        {
            "id": "p",
            "name": "Tênis",
            "attributes": {"tamanhos": [38, 39.0, 40.5], "cores": ["preto", "branco"], "Marca": "Passo", "vazio": []},
        }
    )
    assert document.attributes == {
        "tamanhos": ("38", "39", "40.5"),
        "cores": ("preto", "branco"),
        "Marca": "Passo",
        "vazio": (),
    }
    assert (
        document_from_dict({"id": "q", "name": "N", "attributes": {"T": list(range(200))}}).attributes["T"][-1] == "199"
    )


def test_a_bad_attribute_names_its_line_and_key(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "p.jsonl",
        [{"id": "ok", "name": "N"}, {"id": "p", "name": "N", "attributes": {"cores": [["preto"]]}}],
    )
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert info.value.line == 2 and info.value.code == "bad_attribute"
    assert "'cores'" in str(info.value) and "'p'" in str(info.value)


def test_list_attributes_reach_every_text_and_the_payload() -> None:
    document = Document(
        "p", "Tênis Corrida", category="Calçados > Tênis", attributes={"Tamanho": ("38", "39"), "Cor": "Azul Marinho"}
    )
    for text in (sparse_text(document), dense_text(document), typo_text(document)):
        assert "38" in text and "39" in text and "Azul Marinho" in text
    stored = payload(document)
    assert stored["attributes"] == {"Tamanho": ["38", "39"], "Cor": "Azul Marinho"}
    assert stored["attr"] == ["cor=azul marinho", "tamanho=38", "tamanho=39"]
    json.dumps(stored)  # the store keeps JSON


@pytest.mark.parametrize(
    "attributes",
    [
        {"Cor": 3},
        {"Cor": ["Preta", 3]},
        {"Cor": ("Preta", None)},
        {"Cor": ("x",) * 201},
        {3: "x"},
        {"Cor": ("y" * 1001,)},
    ],
)
def test_check_document_refuses_bad_attributes(attributes: dict[Any, Any]) -> None:
    with pytest.raises(DocumentError) as info:
        check_document(Document("p", "N", attributes=attributes))
    assert info.value.code == "bad_attribute"


def test_document_from_dict_without_line_has_plain_message() -> None:
    with pytest.raises(DocumentError) as info:
        document_from_dict({"id": "p"})
    assert info.value.line is None
    assert not str(info.value).startswith("line")


def test_duplicate_ids_last_wins_and_is_reported(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "p.jsonl",
        [
            {"id": "a", "name": "First A"},
            {"id": "b", "name": "B"},
            {"id": "a", "name": "Second A"},
            {"id": 3, "name": "Three"},
            {"id": "3", "name": "Three again"},
        ],
    )
    report = load_jsonl(path)
    assert [(doc.id, doc.name) for doc in report.documents] == [("b", "B"), ("a", "Second A"), ("3", "Three again")]
    assert report.duplicates == ["a", "3"]


def test_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a", "name": "A"}\n\xff\xfe{"id": "b"}\n{"id": "c", "name": "C"}\n')
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert (info.value.line, info.value.code) == (2, "not_utf8")
    report = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in report.documents] == ["a", "c"]
    assert [(error.line, error.code) for error in report.errors] == [(2, "not_utf8")]


def test_latin1_file_is_rejected_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes('{"id": "a", "name": "Promoção"}\n'.encode("latin-1"))
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert (info.value.line, info.value.code) == (1, "not_utf8")


def test_oversized_line_is_skipped_and_next_line_parsed(tmp_path: Path) -> None:
    big = json.dumps({"id": "big", "name": "x" * (MAX_LINE_BYTES + 10)})
    path = write_lines(tmp_path / "p.jsonl", [{"id": "a", "name": "A"}, big, {"id": "b", "name": "B"}])
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert (info.value.line, info.value.code) == (2, "line_too_long")
    report = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in report.documents] == ["a", "b"]
    assert [(error.line, error.code) for error in report.errors] == [(2, "line_too_long")]
    assert report.lines == 3


def test_oversized_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a", "name": "A"}\n' + b"y" * (MAX_LINE_BYTES * 2 + 3))
    report = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in report.documents] == ["a"]
    assert [(error.line, error.code) for error in report.errors] == [(2, "line_too_long")]


def test_line_at_the_size_limit_is_accepted(tmp_path: Path) -> None:
    empty = json.dumps({"id": "edge", "name": "E", "description": ""})
    line = json.dumps({"id": "edge", "name": "E", "description": "z" * (MAX_LINE_BYTES - len(empty))})
    assert len(line.encode()) == MAX_LINE_BYTES  # newline excluded
    path = write_lines(tmp_path / "p.jsonl", [{"id": "a", "name": "A"}, line, {"id": "b", "name": "B"}])
    report = load_jsonl(path)
    assert [doc.id for doc in report.documents] == ["a", "edge", "b"]


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nope.jsonl" if kind == "missing" else tmp_path
    with pytest.raises(DocumentError) as info:
        load_jsonl(path)
    assert info.value.code == "unreadable_file"
    assert info.value.line is None
    assert str(tmp_path) in str(info.value)


# -- what gets indexed ----------------------------------------------------------


def _shirt(**changes: Any) -> Document:
    return document_from_dict({**SHIRT, **changes})


def test_sparse_text_repeats_name_and_skips_attribute_keys() -> None:
    text = sparse_text(_shirt())
    assert text.split("\n") == [
        "Camiseta Básica",
        "Camiseta Básica",
        "Roupas Camisetas",
        "Preta M",
        "algodão verão",
        "Camiseta de algodão penteado.",
    ]
    assert "Cor" not in text and "Tamanho" not in text


def test_sparse_text_minimal_document() -> None:
    assert sparse_text(Document(id="x", name="Bola")) == "Bola\nBola"


def test_dense_text_puts_facts_first_and_clips_description() -> None:
    words = " ".join(f"palavra{i:03d}" for i in range(100))  # 1099 characters
    document = _shirt(description=words + "\n\n  FIM")
    text = dense_text(document)
    prefix = "Camiseta Básica. Roupas / Camisetas. Preta, M. algodão, verão. "
    assert text.startswith(prefix)
    clipped = text[len(prefix) :]
    assert len(clipped) <= DENSE_DESCRIPTION_CHARS
    assert len(clipped) > DENSE_DESCRIPTION_CHARS // 2
    assert words.startswith(clipped)
    assert words[len(clipped)] == " "  # cut on a word boundary
    assert "FIM" not in text


def test_dense_text_short_description_whitespace_normalised() -> None:
    text = dense_text(Document(id="x", name="Bola", category="Esportes", description="Bola  de\n futebol"))
    assert text == "Bola. Esportes. Bola de futebol"


def test_dense_text_long_word_is_cut_hard() -> None:
    text = dense_text(Document(id="x", name="N", description="a " + "z" * 500))
    assert text == "N. a " + "z" * (DENSE_DESCRIPTION_CHARS - 2)


def test_typo_text_uses_name_leaf_attributes_and_tags() -> None:
    assert typo_text(_shirt()) == "Camiseta Básica Camisetas Preta M algodão verão"


def test_payload_fields() -> None:
    document = _shirt(category=" Roupas >Camisetas > Manga  Curta ", company_id=None, in_stock=False)
    result = payload(document)
    assert result == {
        "sku": "CB-01",
        "name": "Camiseta Básica",
        "kind": "product",
        "category": "Roupas > Camisetas > Manga  Curta",
        "categories": ["roupas", "roupas > camisetas", "roupas > camisetas > manga curta"],
        "company_id": 0,
        "website_id": 0,
        "in_stock": 0,
        "published": 1,
        "attributes": {"Cor": "Preta", "Tamanho": "M"},
        "attr": ["cor=preta", "tamanho=m"],
        "tags": ["algodão", "verão"],
        "price": 49.9,
        "currency": "BRL",
    }
    assert type(result["in_stock"]) is int and type(result["published"]) is int
    json.dumps(result)  # the payload must be JSON-serialisable


def test_payload_omits_missing_price_and_currency() -> None:
    result = payload(Document(id="x", name="Bola", company_id=4, website_id=7))
    assert "price" not in result and "currency" not in result
    assert (result["company_id"], result["website_id"]) == (4, 7)
    assert result["categories"] == [] and result["category"] == ""
    assert (result["in_stock"], result["published"]) == (1, 1)


def test_payload_extra_cannot_override_indexed_fields() -> None:
    result = payload(
        Document(id="x", name="Bola", extra={"name": "Hack", "in_stock": True, "website_id": 3, "note": "n"})
    )
    assert result["name"] == "Bola" and result["in_stock"] == 1 and result["note"] == "n"
    assert result["website_id"] == 0, "extra cannot put a product on one website"


HOSTILE_LINES = [
    (b'{"id": "deep", "name": "N", "extra": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "too_deep"),
    (b"[" * 100_000, "too_deep"),
    (b'{"id": "nan", "name": "N", "extra": {"weight": NaN}}', "non_finite_number"),
    (b'{"id": "inf", "name": "N", "extra": {"w": [1, -Infinity]}}', "non_finite_number"),
    (b'{"id": "p", "name": "N", "extra": {"price": 1}}', "reserved_extra_key"),
    (b'{"id": "c", "name": "N", "extra": {"currency": "USD"}}', "reserved_extra_key"),
    (b'{"id": "d", "name": "N", "extra": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}", "too_deep"),
]


@pytest.mark.parametrize(("line", "code"), HOSTILE_LINES)
def test_hostile_lines_stay_in_the_error_tree_and_are_skipped(tmp_path: Path, line: bytes, code: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "ok", "name": "Bola"}\n' + line + b"\n" + b'{"id": "ok2", "name": "Copo"}\n')
    with pytest.raises(DocumentError) as caught:
        load_jsonl(path)
    assert caught.value.code == code and caught.value.line == 2
    report = load_jsonl(path, on_error="skip")
    assert [doc.id for doc in report.documents] == ["ok", "ok2"]
    assert [(error.line, error.code) for error in report.errors] == [(2, code)]


def test_documents_built_in_code_get_the_same_checks() -> None:
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    for extra, code in (
        ({"w": float("nan")}, "non_finite_number"),
        ({"price": 10.0}, "reserved_extra_key"),
        ({"doc_id": "other"}, "reserved_extra_key"),
        (deep, "too_deep"),
    ):
        with pytest.raises(DocumentError) as caught:
            check_document(Document(id="x", name="Bola", extra=extra))
        assert caught.value.code == code
    assert "price" not in payload(Document(id="x", name="Bola", extra={"price": "abc", "currency": "XXX"}))


def test_attribute_filter_keys_of_names_and_values_holding_equals_signs_never_collide() -> None:
    from odoo_search_lib.store.base import attribute_key

    keys = {attribute_key(*pair) for pair in [("a=b", "c"), ("a", "b=c"), ("a\\", "=c"), ("a", "\\=c"), ("A", "B")]}
    assert len(keys) == 5
    assert attribute_key("Tamanho ", " 38") == "tamanho=38"
