"""One conformance suite for both vector stores: the embedded engine and qdrant-client (``:memory:``).

Every test taking the ``store`` fixture runs twice, against ``EdgeStore(tmp_path)`` and ``QdrantStore(":memory:")``,
with real vectors: random unit dense vectors and the library's own sparse encoders.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from odoo_search_lib.config import StoreSettings
from odoo_search_lib.documents import payload, sparse_text, typo_text
from odoo_search_lib.exceptions import ConfigError, StoreError, StoreLockedError, StoreUnavailableError
from odoo_search_lib.sparse import BM25Encoder, CharNgramEncoder
from odoo_search_lib.store import Point, ScoredPoint, SignalQuery, VectorStore, open_store, point_id
from odoo_search_lib.store.base import SCROLL_PAGE
from odoo_search_lib.store.edge import OFFLOAD_MIN_POINTS, EdgeStore
from odoo_search_lib.store.qdrant import QdrantStore
from odoo_search_lib.text import Analyzer
from odoo_search_lib.types import Document, Filters

# QdrantClient checks the server version in a background thread and warns when the server is down
# (test_qdrant_unreachable_server).
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version:UserWarning")

REPO = Path(__file__).resolve().parents[1]
DIM = 8
ANALYZER = Analyzer("pt")
BM25 = BM25Encoder(ANALYZER)
CHARS = CharNgramEncoder(ANALYZER)

DOCS = [
    Document(
        "d1",
        "Camiseta Azul",
        category="Roupas > Camisetas",
        price=49.9,
        company_id=1,
        attributes={"Tamanho": ("P", "M", "G"), "Cor": "Azul"},
    ),
    Document(
        "d2",
        "Camiseta Vermelha Manga Longa",
        category="Roupas > Camisetas > Manga Longa",
        price=59.9,
        company_id=2,
        in_stock=False,
        attributes={"Tamanho": ("M",), "Cor": "Vermelho"},
    ),
    Document("d3", "Calça Jeans", category="Roupas > Calças", price=120.0, published=False),
    Document("d4", "Bola de Futebol", category="Esportes > Futebol", price=89.0, company_id=1),
    Document("d5", "Frete grátis acima de 200 reais", kind="rule"),
    Document(
        "d6",
        "Tênis de Corrida",
        category="Esportes > Corrida",
        price=299.99,
        company_id=3,
        in_stock=False,
        published=False,
        attributes={"Número": ("38", "39", "40")},
    ),
    Document("d7", "Câmera Digital", category="Eletrônicos > Câmeras", price=100.0, company_id=2),
    Document(
        "d8", "Camiseta Esportiva", category="Esportes > Roupas", price=39.9, company_id=1, attributes={"tamanho": "g"}
    ),
]
ALL = {doc.id for doc in DOCS}


def unit_vectors(count: int, seed: int, dim: int = DIM) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


DENSE = dict(zip([doc.id for doc in DOCS], unit_vectors(len(DOCS), seed=7), strict=True))


def make_point(document: Document, dense: np.ndarray | None = None) -> Point:
    return Point(
        doc_id=document.id,
        dense=DENSE[document.id] if dense is None else dense,
        bm25=BM25.encode_document(sparse_text(document)),
        chars=CHARS.encode_document(typo_text(document)),
        payload=payload(document),
    )


POINTS = [make_point(doc) for doc in DOCS]


def open_backend(kind: str, tmp_path: Path) -> VectorStore:
    return EdgeStore(tmp_path / "store") if kind == "edge" else QdrantStore(":memory:")


@pytest.fixture(params=["edge", "qdrant"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened = open_backend(request.param, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def loaded(store: VectorStore) -> VectorStore:
    """A store of its own with collection ``c`` holding the eight documents, for tests that change it."""
    store.create_collection("c", DIM)
    store.upsert("c", POINTS)
    store.optimize("c")
    return store


@pytest.fixture(scope="module", params=["edge", "qdrant"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    """Like ``loaded``, built once per backend for the read-only tests (keeps the module fast)."""
    opened = open_backend(request.param, tmp_path_factory.mktemp(request.param))
    opened.create_collection("c", DIM)
    opened.upsert("c", POINTS)
    opened.optimize("c")
    yield opened
    opened.close()


def ids(points: Sequence[ScoredPoint]) -> list[str]:
    return [point.doc_id for point in points]


def assert_best_first(points: Sequence[ScoredPoint]) -> None:
    scores = [point.score for point in points]
    assert scores == sorted(scores, reverse=True)
    for point in points:
        assert isinstance(point, ScoredPoint)
        assert point.payload["doc_id"] == point.doc_id


def everything(store: VectorStore, filters: Filters | None) -> set[str]:
    """Every document the filters let through, found by an unlimited dense query."""
    return set(payloads(store, filters))


def payloads(store: VectorStore, filters: Filters | None = None) -> dict[str, dict[str, object]]:
    """The stored payloads of every document the filters let through, keyed by document id."""
    (points,) = store.query("c", [SignalQuery("dense", DENSE["d1"], 100)], filters)
    return {point.doc_id: dict(point.payload) for point in points}


# -- collections and aliases ----------------------------------------------------


def test_backend_names(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)
    assert store.backend in ("edge", "qdrant")


def test_create_list_exists_drop(store: VectorStore) -> None:
    assert store.list_collections() == []
    assert store.collection_exists("b") is False
    store.create_collection("b", DIM)
    store.create_collection("a", DIM)
    assert store.list_collections() == ["a", "b"]
    assert store.collection_exists("a") and store.collection_exists("b")
    assert store.count("a") == 0
    store.drop_collection("a")
    assert store.list_collections() == ["b"]
    assert store.collection_exists("a") is False
    store.drop_collection("a")  # unknown names are ignored
    store.drop_collection("never-existed")
    assert store.list_collections() == ["b"]


def test_create_existing_collection_fails(store: VectorStore) -> None:
    store.create_collection("c", DIM)
    store.upsert("c", POINTS[:2])
    with pytest.raises(StoreError, match="already exists"):
        store.create_collection("c", DIM)
    assert store.count("c") == 2  # the failed create left the data alone


def test_missing_collection_operations_fail(store: VectorStore) -> None:
    with pytest.raises(StoreError):
        store.count("missing")
    with pytest.raises(StoreError):
        store.upsert("missing", POINTS[:1])
    with pytest.raises(StoreError):
        store.query("missing", [SignalQuery("dense", DENSE["d1"], 3)])


def test_aliases(store: VectorStore) -> None:
    store.create_collection("v1", DIM)
    store.create_collection("v2", DIM)
    store.upsert("v2", POINTS[:3])
    assert store.get_alias("live") is None
    store.set_alias("live", "v1")
    assert store.get_alias("live") == "v1"
    store.set_alias("live", "v2")  # switch
    assert store.get_alias("live") == "v2"
    store.set_alias("other", "v1")
    assert (store.get_alias("live"), store.get_alias("other")) == ("v2", "v1")
    with pytest.raises(StoreError, match="missing collection"):
        store.set_alias("live", "v3")
    assert store.get_alias("live") == "v2"  # unchanged by the failed switch
    # Callers resolve the alias themselves (the protocol does not promise alias names in data calls).
    assert store.count(store.get_alias("live") or "") == 3
    # Dropping a collection removes the aliases that point at it, and only those.
    store.drop_collection("v1")
    assert store.get_alias("other") is None
    assert store.get_alias("live") == "v2"


# -- points -----------------------------------------------------------------------


def test_upsert_and_count(shared: VectorStore) -> None:
    assert shared.count("c") == len(DOCS)
    stored = payloads(shared)
    assert stored.keys() == ALL
    for doc in DOCS:
        assert stored[doc.id] == {**payload(doc), "doc_id": doc.id}
    shared.upsert("c", [])  # an empty batch changes nothing
    assert shared.count("c") == len(DOCS)


def test_retrieve(shared: VectorStore) -> None:
    got = shared.retrieve("c", ["d1", "d5", "nope"])
    assert set(got) == {"d1", "d5"}
    assert dict(got["d1"]) == {**payload(DOCS[0]), "doc_id": "d1"}
    assert got["d5"]["kind"] == "rule" and "price" not in got["d5"]
    assert shared.retrieve("c", []) == {}


def test_content_hashes_scroll_every_document(loaded: VectorStore) -> None:
    assert loaded.content_hashes("c") == {doc.id: "" for doc in DOCS}, "points written without a hash"
    hashed = Point(**{**make_point(DOCS[0]).__dict__, "payload": {**payload(DOCS[0]), "content_hash": "abc123"}})
    loaded.upsert("c", [hashed])
    assert loaded.content_hashes("c")["d1"] == "abc123"
    # more points than one scroll page
    many = [make_point(Document(f"m{i}", f"Produto {i}"), dense=DENSE["d1"]) for i in range(SCROLL_PAGE + 5)]
    loaded.upsert("c", many)
    assert len(loaded.content_hashes("c")) == len(DOCS) + SCROLL_PAGE + 5


def test_upsert_same_id_replaces(loaded: VectorStore) -> None:
    renamed = Document("d1", "Boné Preto", category="Acessórios", price=25.0, company_id=1)
    loaded.upsert("c", [make_point(renamed, dense=DENSE["d1"])])
    assert loaded.count("c") == len(DOCS)
    stored = payloads(loaded)["d1"]
    assert (stored["name"], stored["price"], stored["categories"]) == ("Boné Preto", 25.0, ["acessorios"])
    # The old sparse vector is gone with the old payload.
    (bm25,) = loaded.query("c", [SignalQuery("bm25", BM25.encode_query("camiseta azul"), 10)])
    assert "d1" not in ids(bm25)
    (bm25,) = loaded.query("c", [SignalQuery("bm25", BM25.encode_query("boné"), 10)])
    assert ids(bm25) == ["d1"]


def test_delete(loaded: VectorStore) -> None:
    loaded.delete("c", ["d1", "unknown-id"])
    assert loaded.count("c") == len(DOCS) - 1
    assert everything(loaded, None) == ALL - {"d1"}
    loaded.delete("c", [])
    loaded.delete("c", ["unknown-only"])
    assert loaded.count("c") == len(DOCS) - 1


def test_point_ids_are_stable_uuids() -> None:
    assert point_id("d1") == point_id("d1")
    assert point_id("d1") != point_id("d2")
    assert len(point_id("product.template,42")) == 36


# -- queries ----------------------------------------------------------------------


def test_dense_query(shared: VectorStore) -> None:
    (points,) = shared.query("c", [SignalQuery("dense", DENSE["d4"], 3)])
    assert len(points) == 3
    assert points[0].doc_id == "d4"
    assert points[0].score == pytest.approx(1.0, abs=1e-5)
    assert_best_first(points)
    # The expected order from numpy, independently.
    order = sorted(DENSE, key=lambda doc_id: -float(DENSE[doc_id] @ DENSE["d4"]))
    assert ids(points) == order[:3]


def test_bm25_query(shared: VectorStore) -> None:
    (points,) = shared.query("c", [SignalQuery("bm25", BM25.encode_query("camisetas"), 10)])
    assert set(ids(points)) == {"d1", "d2", "d8"}
    assert all(point.score > 0 for point in points)
    assert_best_first(points)
    (points,) = shared.query("c", [SignalQuery("bm25", BM25.encode_query("frete grátis"), 10)])
    assert ids(points) == ["d5"]


def test_chars_query_tolerates_typos(shared: VectorStore) -> None:
    (points,) = shared.query("c", [SignalQuery("chars", CHARS.encode_query("camizeta"), 10)])
    assert_best_first(points)
    assert points[0].doc_id in {"d1", "d2", "d8"}
    assert {"d1", "d2", "d8"} <= set(ids(points))
    assert "d5" not in ids(points)


def test_query_batch_of_three_stages(shared: VectorStore) -> None:
    stages = [
        SignalQuery("dense", DENSE["d7"], 2),
        SignalQuery("bm25", BM25.encode_query("bola futebol"), 5),
        SignalQuery("chars", CHARS.encode_query("camera"), 4),
    ]
    results = shared.query("c", stages)
    assert len(results) == 3
    dense, bm25, chars = results
    assert len(dense) == 2 and dense[0].doc_id == "d7"
    assert ids(bm25) == ["d4"]
    assert chars[0].doc_id == "d7" and len(chars) <= 4
    for points in results:
        assert_best_first(points)
    assert shared.query("c", []) == []


def test_limit_is_respected(shared: VectorStore) -> None:
    (points,) = shared.query("c", [SignalQuery("dense", DENSE["d1"], 1)])
    assert ids(points) == ["d1"]
    (points,) = shared.query("c", [SignalQuery("dense", DENSE["d1"], 100)])
    assert len(points) == len(DOCS)


FILTER_CASES = [
    (Filters(company_ids=(1,)), {"d1", "d3", "d4", "d5", "d8"}),
    (Filters(company_ids=(2, 3)), {"d2", "d3", "d5", "d6", "d7"}),
    (Filters(company_ids=()), {"d3", "d5"}),
    (Filters(company_ids=(99,)), {"d3", "d5"}),
    (Filters(category="Roupas"), {"d1", "d2", "d3"}),
    (Filters(category="roupas > CAMISETAS"), {"d1", "d2"}),
    (Filters(category=" Roupas>Camisetas >manga longa "), {"d2"}),
    (Filters(category="Esportes"), {"d4", "d6", "d8"}),
    (Filters(category="eletrônicos > câmeras"), {"d7"}),
    (Filters(category="Camisetas"), set()),  # not a path from the root
    (Filters(category="Roupas > Cam"), set()),  # no prefix matching
    (Filters(price_min=59.9, price_max=120.0), {"d2", "d3", "d4", "d7"}),  # both bounds inclusive
    (Filters(price_min=100.0), {"d3", "d6", "d7"}),
    (Filters(price_max=49.9), {"d1", "d8"}),
    (Filters(price_min=0.0), ALL - {"d5"}),  # documents without a price never match a price filter
    (Filters(price_min=500.0), set()),
    (Filters(in_stock=True), {"d1", "d3", "d4", "d5", "d7", "d8"}),
    (Filters(in_stock=False), {"d2", "d6"}),
    (Filters(published=True), {"d1", "d2", "d4", "d5", "d7", "d8"}),
    (Filters(published=False), {"d3", "d6"}),
    (Filters(kind="rule"), {"d5"}),
    (Filters(kind="product"), ALL - {"d5"}),
    (Filters(kind="nothing"), set()),
    (Filters(company_ids=(1,), category="Roupas", in_stock=True), {"d1", "d3"}),
    (Filters(company_ids=(1,), category="Roupas", in_stock=True, published=True), {"d1"}),
    (Filters(company_ids=(2,), kind="product", price_max=100.0, in_stock=True), {"d7"}),
    (Filters(category="Esportes", in_stock=False, published=False, price_min=200.0), {"d6"}),
    (Filters(attributes=(("Tamanho", ("G",)),)), {"d1", "d8"}),  # a list value or a single one
    (Filters(attributes=(("TAMANHO", ("m", "XG")),)), {"d1", "d2"}),  # any of the values
    (Filters(attributes=(("numero", ("40",)),)), {"d6"}),  # accents and case of the name ignored
    (Filters(attributes=(("Número", ("41",)),)), set()),
    (Filters(attributes=(("Tamanho", ("G",)), ("Cor", ("azul",)))), {"d1"}),  # every attribute must match
    (Filters(attributes=(("Cor", ("Preto",)),)), set()),
    (Filters(attributes=(("Tamanho", ("G",)),), company_ids=(2,)), set()),
    (Filters(attributes=(("Tamanho", ("M",)),), company_ids=(2,), in_stock=False), {"d2"}),
    (Filters(), ALL),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES, ids=[str(i) for i in range(len(FILTER_CASES))])
def test_filters(shared: VectorStore, filters: Filters, expected: set[str]) -> None:
    assert everything(shared, filters) == expected
    assert shared.count("c", filters) == len(expected)


def test_attribute_filters_apply_to_sparse_stages(shared: VectorStore) -> None:
    filters = Filters(attributes=(("tamanho", ("g",)),))
    bm25, chars = shared.query(
        "c",
        [
            SignalQuery("bm25", BM25.encode_query("camiseta"), 10),
            SignalQuery("chars", CHARS.encode_query("camiseta"), 10),
        ],
        filters,
    )
    assert set(ids(bm25)) == {"d1", "d8"}
    assert set(ids(chars)) <= {"d1", "d8"}


def test_list_attributes_come_back_as_lists(shared: VectorStore) -> None:
    assert shared.retrieve("c", ["d1"])["d1"]["attributes"] == {"Tamanho": ["P", "M", "G"], "Cor": "Azul"}


def test_an_edge_collection_without_the_attribute_index_still_filters(tmp_path: Path) -> None:
    """Collections made before attribute filters lack the ``attr`` index: filters scan instead."""
    store = EdgeStore(tmp_path / "store")
    try:
        store.create_collection("old", DIM)
        store._shard("old").update(qe.UpdateOperation.delete_field_index("attr"))
        store.upsert("old", POINTS)
        (points,) = store.query(
            "old", [SignalQuery("dense", DENSE["d1"], 10)], Filters(attributes=(("Tamanho", ("G",)),))
        )
        assert set(ids(points)) == {"d1", "d8"}
    finally:
        store.close()


def test_filters_apply_to_sparse_stages(shared: VectorStore) -> None:
    filters = Filters(company_ids=(2,))
    bm25, chars = shared.query(
        "c",
        [
            SignalQuery("bm25", BM25.encode_query("camiseta"), 10),
            SignalQuery("chars", CHARS.encode_query("camiseta"), 10),
        ],
        filters,
    )
    assert ids(bm25) == ["d2"]
    assert set(ids(chars)) <= {"d2", "d3", "d5", "d7"}
    assert ids(chars)[0] == "d2"


def test_an_unfiltered_stage_ignores_the_batch_filters(shared: VectorStore) -> None:
    filters = Filters(company_ids=(2,))
    vector = BM25.encode_query("bola")  # only d4, of company 1
    filtered, unfiltered = shared.query(
        "c", [SignalQuery("bm25", vector, 10), SignalQuery("bm25", vector, 10, filtered=False)], filters
    )
    assert filtered == []
    assert ids(unfiltered) == ["d4"]


def test_validity_and_rule_type_filters_in_every_stage(store: VectorStore) -> None:
    """Business rules' filters (odoo_search_lib.rules): float epoch ends, open ends as ±1e15 sentinels."""
    rules = {  # id: (type, valid_from_ts, valid_to_ts)
        "always": ("payment", -1e15, 1e15),
        "expired": ("promotion", 1000.0, 1999.999),
        "current": ("promotion", 2000.0, 3000.0),
        "future": ("promotion", 3000.001, 1e15),
    }
    points = [
        Point(
            doc_id=rule_id,
            dense=vector,
            bm25=BM25.encode_document("cupom de desconto"),
            chars=CHARS.encode_document("cupom de desconto"),
            payload={"doc_id": rule_id, "kind": "rule", "rule_type": kind, "valid_from_ts": start, "valid_to_ts": end},
        )
        for (rule_id, (kind, start, end)), vector in zip(rules.items(), unit_vectors(len(rules), seed=3), strict=True)
    ]
    store.create_collection("r", DIM)
    store.upsert("r", points)
    stages = [
        SignalQuery("dense", points[0].dense, 10),
        SignalQuery("bm25", BM25.encode_query("cupom"), 10),
        SignalQuery("chars", CHARS.encode_query("cupom"), 10),
    ]
    cases = [
        (Filters(valid_at=2000.0), {"always", "current"}),  # both ends inclusive
        (Filters(valid_at=3000.0), {"always", "current"}),
        (Filters(valid_at=1999.9995), {"always"}),  # between two rules
        (Filters(valid_at=1e9), {"always", "future"}),
        (Filters(valid_at=-1e12), {"always"}),
        (Filters(valid_at=1500.0, rule_types=("promotion",)), {"expired"}),
        (Filters(rule_types=("payment", "faq")), {"always"}),
        (Filters(rule_types=()), set()),
    ]
    for filters, expected in cases:
        for stage, found in zip(stages, store.query("r", stages, filters), strict=True):
            assert set(ids(found)) == expected, (filters, stage.using)
        assert store.count("r", filters) == len(expected)


def test_both_backends_agree(tmp_path: Path) -> None:
    edge, qdrant = EdgeStore(tmp_path / "store"), QdrantStore(":memory:")
    try:
        for backend in (edge, qdrant):
            backend.create_collection("c", DIM)
            backend.upsert("c", POINTS)
            backend.optimize("c")
        queries = [
            SignalQuery("dense", unit_vectors(1, seed=99)[0], 5),
            SignalQuery("bm25", BM25.encode_query("camiseta manga longa"), 5),
            SignalQuery("chars", CHARS.encode_query("camizeta azul"), 5),
        ]
        for filters, _ in FILTER_CASES:
            edge_results = edge.query("c", queries, filters)
            qdrant_results = qdrant.query("c", queries, filters)
            for edge_points, qdrant_points in zip(edge_results, qdrant_results, strict=True):
                assert ids(edge_points) == ids(qdrant_points), filters
                assert [p.score for p in edge_points] == pytest.approx([p.score for p in qdrant_points], rel=1e-4)
            assert edge.count("c", filters) == qdrant.count("c", filters)
    finally:
        edge.close()
        qdrant.close()


# -- the embedded store ---------------------------------------------------------


def test_quantization_is_checked_and_a_server_is_asked_to_rescore(tmp_path: Path) -> None:
    for bad in ("INT8", "int4", "", None):
        with pytest.raises(ConfigError, match="store.quantization"):
            EdgeStore(tmp_path / "store", quantization=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="store.quantization"):
            QdrantStore(":memory:", quantization=bad)  # type: ignore[arg-type]
    server = QdrantStore("http://127.0.0.1:9", quantization="int8")  # no request is made
    try:
        params = server._dense_search_params()
        assert (params.quantization.rescore, params.quantization.oversampling) == (True, 2.0)
    finally:
        server.close()
    local = QdrantStore(":memory:")
    try:
        assert local._dense_search_params() is None  # exact search: it would only warn
    finally:
        local.close()


@pytest.mark.slow
def test_edge_searches_int8_vectors_and_rescores_them_exactly(tmp_path: Path) -> None:
    """Above the engine's indexing threshold (about 5,000 vectors of 512 dimensions) an optimised
    collection holds int8 copies of the dense vectors; a dense query searches them and returns the
    exact cosines of the originals. With quantization "none" there are no int8 copies."""
    vectors = unit_vectors(6_000, seed=5, dim=512)
    query = vectors[42] + 0.5 * unit_vectors(1, seed=6, dim=512)[0]
    query /= np.linalg.norm(query)
    exact = vectors @ query
    empty = BM25.encode_query("")
    points = [Point(f"d{i}", vector, empty, empty, {"kind": "product"}) for i, vector in enumerate(vectors)]
    for quantization in ("int8", "none"):
        store = EdgeStore(tmp_path / quantization, quantization=quantization)
        try:
            store.create_collection("c", 512)
            store.upsert("c", points)
            store.optimize("c")
            (found,) = store.query("c", [SignalQuery("dense", query, 10)])
            for point in found:  # rescored: the original vectors' cosines
                assert point.score == pytest.approx(float(exact[int(point.doc_id[1:])]), abs=1e-5)
            assert found[0].doc_id == "d42", quantization
            # the same search without rescoring reads the int8 copies, whose scores are approximate
            unrescored = qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=False))
            nearest = qe.Query.Nearest(query.tolist(), using="dense")
            approximate = store._shard("c").query(
                qe.QueryRequest(limit=10, query=nearest, params=unrescored, with_payload=True)
            )
            errors = [abs(p.score - float(exact[int(p.payload["doc_id"][1:])])) for p in approximate]
            if quantization == "int8":
                assert max(errors) > 1e-4
            else:
                assert max(errors) < 1e-5
        finally:
            store.close()


def test_raw_edge_bool_payload_quirk(tmp_path: Path) -> None:
    """Why flags are stored as 0/1: the engine's MatchValue(True) finds nothing on an indexed Bool field."""
    config = qe.EdgeConfig(vectors={"dense": qe.EdgeVectorParams(size=2, distance=qe.Distance.Cosine)})
    shard = qe.EdgeShard.create(str(tmp_path / "shard"), config)
    try:
        shard.update(qe.UpdateOperation.create_field_index("flag", qe.PayloadSchemaType.Bool))
        shard.update(
            qe.UpdateOperation.upsert_points(
                [
                    qe.Point(id=1, vector={"dense": [1.0, 0.0]}, payload={"flag": True}),
                    qe.Point(id=2, vector={"dense": [0.0, 1.0]}, payload={"flag": False}),
                ]
            )
        )

        def count(value: bool) -> int:
            condition = qe.FieldCondition("flag", match=qe.MatchValue(value))
            return shard.count(qe.CountRequest(filter=qe.Filter(must=[condition]), exact=True))

        assert shard.count(qe.CountRequest(exact=True)) == 2
        assert count(True) == 0  # the quirk: one point has flag=True
        assert count(False) == 0
    finally:
        shard.close()
    # Through EdgeStore, the 0/1 integer flags filter correctly.
    with EdgeStore(tmp_path / "store") as store:
        store.create_collection("c", DIM)
        store.upsert("c", POINTS)
        assert store.count("c", Filters(in_stock=True)) == 6
        assert store.count("c", Filters(in_stock=False)) == 2
        assert store.count("c", Filters(published=False)) == 2


def test_edge_same_directory_twice_in_one_process(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store"):
        with pytest.raises(StoreLockedError) as info:
            EdgeStore(tmp_path / "store")
        assert f"pid {os.getpid()}" in str(info.value)
        assert info.value.code == "store_locked"


def _open_in_subprocess(path: Path, code: str = "") -> subprocess.CompletedProcess[str]:
    script = f"from odoo_search_lib.store.edge import EdgeStore\nstore = EdgeStore({str(path)!r})\n{code}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env, timeout=60, check=False
    )


def test_edge_second_process_is_refused_without_corruption(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EdgeStore(path) as store:
        store.create_collection("c", DIM)
        store.upsert("c", POINTS[:4])
        store.set_alias("live", "c")
        result = _open_in_subprocess(path, "store.upsert('c', [])\nprint('opened')")
        assert result.returncode != 0
        assert "StoreLockedError" in result.stderr
        assert f"pid {os.getpid()}" in result.stderr
        assert "opened" not in result.stdout
        # The first store still reads and writes.
        assert store.count("c") == 4
        store.upsert("c", POINTS[4:])
        store.delete("c", ["d1"])
        assert store.count("c") == len(DOCS) - 1
        assert store.get_alias("live") == "c"
        assert everything(store, Filters(kind="rule")) == {"d5"}


def test_edge_lock_is_released_on_close_for_other_processes(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EdgeStore(path) as store:
        store.create_collection("c", DIM)
        store.upsert("c", POINTS)
    result = _open_in_subprocess(path, "print(store.count('c'))\nstore.close()")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(DOCS))


def test_edge_persistence_after_close(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EdgeStore(path)
    store.create_collection("c", DIM)
    store.upsert("c", POINTS)
    store.delete("c", ["d8"])
    store.set_alias("live", "c")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.count("c")
    with EdgeStore(path) as reopened:
        assert reopened.list_collections() == ["c"]
        assert reopened.get_alias("live") == "c"
        assert reopened.count("c") == len(DOCS) - 1
        assert payloads(reopened)["d1"]["name"] == "Camiseta Azul"
        (points,) = reopened.query(
            "c", [SignalQuery("bm25", BM25.encode_query("camiseta"), 10)], Filters(company_ids=(1,))
        )
        assert ids(points) == ["d1"]


def test_edge_rejects_unsafe_collection_names(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store") as store:
        for name in ("../x", "", "a/b", ".hidden"):
            with pytest.raises(StoreError, match="invalid collection name"):
                store.create_collection(name, DIM)
        assert not (tmp_path / "x").exists()


# -- open_store --------------------------------------------------------------------


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    edge = open_store(StoreSettings(backend="edge", path=str(tmp_path / "s")))
    try:
        assert isinstance(edge, EdgeStore) and edge.backend == "edge"
    finally:
        edge.close()
    qdrant = open_store(StoreSettings(backend="qdrant", url=":memory:"))
    try:
        assert isinstance(qdrant, QdrantStore) and qdrant.backend == "qdrant"
    finally:
        qdrant.close()


@pytest.mark.parametrize(
    "settings",
    [
        StoreSettings(backend="edge"),
        StoreSettings(backend="edge", path="/tmp/x", url="http://localhost:6333"),
        StoreSettings(backend="qdrant"),
        StoreSettings(backend="qdrant", url="ftp://qdrant.example"),
        StoreSettings(backend="qdrant", url="localhost:6333"),
        StoreSettings(backend="qdrant", url=":memory:", api_key="secret"),
        StoreSettings(backend="nope", path="/tmp/x"),
    ],
)
def test_open_store_config_errors(settings: StoreSettings) -> None:
    with pytest.raises(ConfigError):
        open_store(settings)


def test_qdrant_unreachable_server() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed now: connections are refused at once.
    threads_before = set(threading.enumerate())
    store = open_store(StoreSettings(backend="qdrant", url=f"http://127.0.0.1:{port}", timeout=1))
    try:
        with pytest.raises(StoreUnavailableError) as info:
            store.list_collections()
        assert info.value.code == "store_unavailable"
        assert f"127.0.0.1:{port}" in str(info.value)
        with pytest.raises(StoreUnavailableError):
            store.count("c")
    finally:
        store.close()
        # Let qdrant-client's version-check thread finish (and warn) inside this test.
        for thread in set(threading.enumerate()) - threads_before:
            thread.join(timeout=10)


def test_edge_aliases_are_written_durably(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """aliases.json: content fsynced before the atomic rename, then the directory fsynced (the rename)."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:  # a spy on the OS call: it still syncs
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    with EdgeStore(tmp_path / "store") as store:
        store.create_collection("v1", DIM)
        monkeypatch.setattr(os, "fsync", recording_fsync)
        store.set_alias("live", "v1")
        monkeypatch.undo()
    root = str((tmp_path / "store").resolve())
    assert f"{root}/aliases.json.tmp" in synced and synced[-1] == root
    assert synced.index(f"{root}/aliases.json.tmp") < len(synced) - 1
    assert not (tmp_path / "store" / "aliases.json.tmp").exists()
    with EdgeStore(tmp_path / "store") as reopened:
        assert reopened.get_alias("live") == "v1"


def _few_points(count: int, dim: int = 16, seed: int = 3) -> list[Point]:
    empty = BM25.encode_query("")
    return [
        Point(f"d{i}", vector, empty, empty, {"kind": "product"})
        for i, vector in enumerate(unit_vectors(count, seed=seed, dim=dim))
    ]


def test_edge_copies_a_collection_whole_and_apart(tmp_path: Path) -> None:
    points = _few_points(50)
    with EdgeStore(tmp_path / "store") as store:
        store.create_collection("a", 16)
        store.upsert("a", points)
        store.optimize("a")
        assert store.create_collection_from("a", "b", 16) is True
        assert store.count("b") == 50
        queries = [SignalQuery("dense", points[7].dense, 5)]
        assert [p.doc_id for p in store.query("b", queries)[0]] == [p.doc_id for p in store.query("a", queries)[0]]
        store.delete("b", ["d7"])
        store.upsert("b", _few_points(1, seed=9))  # d0, another vector
        assert (store.count("a"), store.count("b")) == (50, 49)
        assert store.query("a", queries)[0][0].doc_id == "d7"
    (tmp_path / "store" / "copies" / "c").mkdir(parents=True)  # a copy a crash left half done
    with EdgeStore(tmp_path / "store") as store:
        assert not (tmp_path / "store" / "copies" / "c").exists()
        assert store.list_collections() == ["a", "b"]
        assert (store.count("a"), store.count("b")) == (50, 49)
        # loaded from disk, the engine's file holds the defaults it resolved: still copied
        assert store.create_collection_from("b", "c", 16) is True
        assert store.count("c") == 49
    files = [f for f in (tmp_path / "store" / "collections" / "c").rglob("*") if f.is_file()]
    on_disk, apparent = sum(f.stat().st_blocks * 512 for f in files), sum(f.stat().st_size for f in files)
    assert on_disk < apparent / 4, "the engine's preallocated (sparse) files stay sparse in the copy"


def test_edge_copies_only_a_collection_laid_out_as_a_new_one(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store", quantization="none") as store:
        store.create_collection("float32", 16)
        store.upsert("float32", _few_points(10))
    with EdgeStore(tmp_path / "store") as store:  # int8 now
        assert store.create_collection_from("float32", "b", 16) is False
        assert store.count("b") == 0 and store.collection_exists("b")
        store.create_collection("int8", 16)
        store.upsert("int8", _few_points(10))
        assert store.create_collection_from("int8", "wider", 32) is False, "another dimension"
        assert store.count("wider") == 0


def test_a_qdrant_server_collection_is_never_copied() -> None:
    store = QdrantStore(":memory:")
    try:
        store.create_collection("a", 16)
        store.upsert("a", _few_points(10))
        assert store.create_collection_from("a", "b", 16) is False
        assert store.count("b") == 0
    finally:
        store.close()


@pytest.mark.slow
def test_edge_optimises_a_big_build_in_a_child_process(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The engine keeps the GIL while it builds a graph: a build (no alias) of OFFLOAD_MIN_POINTS or more
    is optimised in a child process; the live collection, which searches read, in this one."""
    points = _few_points(OFFLOAD_MIN_POINTS)
    with EdgeStore(tmp_path / "store") as store, caplog.at_level(logging.DEBUG, logger="odoo_search_lib.store.edge"):
        store.create_collection("build", 16)
        store.upsert("build", points)
        store.optimize("build")
        assert "optimised build in a child process" in caplog.text
        assert store.count("build") == OFFLOAD_MIN_POINTS
        queries = [SignalQuery("dense", points[11].dense, 3)]
        assert store.query("build", queries)[0][0].doc_id == "d11"
        store.upsert("build", _few_points(1, seed=8))  # writable again
        store.set_alias("live", "build")
        caplog.clear()
        store.optimize("build")
        assert "child process" not in caplog.text


@pytest.mark.slow
def test_writes_to_a_build_wait_while_a_child_optimises_it(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store") as store:
        store.create_collection("build", 16)
        store.upsert("build", _few_points(OFFLOAD_MIN_POINTS))
        optimising = threading.Thread(target=store.optimize, args=("build",))
        optimising.start()
        for _ in range(1000):  # until the shard is handed to the child
            if "build" in store._away:
                break
            time.sleep(0.01)
        assert "build" in store._away
        store.upsert("build", [dataclasses.replace(_few_points(1, seed=4)[0], doc_id="late")])
        optimising.join(120)
        assert not optimising.is_alive()
        assert store.count("build") == OFFLOAD_MIN_POINTS + 1
        assert store.retrieve("build", ["late"])


@pytest.mark.slow
def test_edge_optimises_in_process_when_no_child_can_start(tmp_path: Path) -> None:
    """A spawned child re-imports the host's main script; a host read from standard input has none,
    so the child fails at once and the parent optimises the build itself, with a WARNING."""
    script = f"""
import numpy as np
from odoo_search_lib.sparse import SparseVector
from odoo_search_lib.store import Point
from odoo_search_lib.store.edge import OFFLOAD_MIN_POINTS, EdgeStore
empty = SparseVector(np.zeros(0, np.uint32), np.zeros(0, np.float32))
rng = np.random.default_rng(1)
with EdgeStore({str(tmp_path / "store")!r}) as store:
    store.create_collection("build", 16)
    store.upsert("build", [Point(f"d{{i}}", rng.random(16, dtype=np.float32), empty, empty, {{}})
                           for i in range(OFFLOAD_MIN_POINTS)])
    store.optimize("build")
    print(store.count("build"))
"""
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(OFFLOAD_MIN_POINTS)
    assert "optimising build in a child process failed" in done.stderr
