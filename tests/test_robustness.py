"""Concurrency and hostile-input guarantees of the public API (Odoo serves requests in threads)."""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import snowballstemmer

from odoo_search_lib import (
    ConfigError,
    Document,
    DocumentError,
    InvalidInputError,
    QueryError,
    SearchIndex,
    Settings,
    StoreError,
    StoreUnavailableError,
    load_jsonl,
    parse_filters,
)
from odoo_search_lib.cli import main
from odoo_search_lib.store.edge import EdgeStore
from odoo_search_lib.store.qdrant import QdrantStore
from odoo_search_lib.text import Analyzer, fold
from tests.conftest import MINI_CATALOGUE, HashingEmbedder


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Make threads switch as often as possible, so races show up in a short test."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_threads(target: Callable[[int], None], count: int = 4) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            target(number)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def _index(tmp_path: Path, tenant: str = "shop") -> SearchIndex:
    return SearchIndex(
        Settings.from_dict({"tenant": tenant, "store": {"path": str(tmp_path / "store")}}), embedder=HashingEmbedder()
    )


def test_stemming_from_many_threads_gives_the_serial_stems(fast_switching: None) -> None:
    rng = random.Random(1)
    suffixes = ["ções", "mente", "idade", "ando", "endo", "aria", "eiros", "ismo", "ável", "ista", "ados"]
    words = sorted(
        {
            fold("".join(rng.choice("abcdefgilmnoprstuv") for _ in range(rng.randint(3, 8))) + rng.choice(suffixes))
            for _ in range(20_000)
        }
    )
    serial = snowballstemmer.stemmer("portuguese")
    expected = {word: serial.stemWord(word) for word in words}
    shared = Analyzer("pt")
    wrong: list[str] = []

    def stem(number: int) -> None:
        wrong.extend(word for word in words[number::4] if shared.stem(word) != expected[word])

    assert run_threads(stem) == []
    assert wrong == []
    assert all(shared.stem(word) == expected[word] for word in words)  # nothing wrong was cached


def test_concurrent_first_upserts_lose_nothing(tmp_path: Path, fast_switching: None) -> None:
    with _index(tmp_path) as index:

        def upsert(number: int) -> None:
            index.upsert([Document(f"t{number}-{i}", f"Produto {number} {i}") for i in range(10)])

        assert run_threads(upsert) == []
        assert index.count() == 40
        assert index.store.list_collections() == [index.collection()]


def test_searches_keep_working_while_the_catalogue_is_reindexed(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        index.upsert(MINI_CATALOGUE)
        stop = threading.Event()
        empty: list[str] = []

        def search(number: int) -> None:
            while not stop.is_set():
                if not index.search("fone bluetooth", limit=3).hits:
                    empty.append("no hits")

        def reindex(number: int) -> None:
            try:
                for _ in range(5):
                    index.reindex(MINI_CATALOGUE)
                    index.upsert(MINI_CATALOGUE[:1])
            finally:
                stop.set()

        errors = run_threads(lambda n: reindex(n) if n == 0 else search(n), count=3)
        assert errors == [] and empty == []
        assert index.count() == len(MINI_CATALOGUE)
        assert len(index.store.list_collections()) == 1


@pytest.mark.parametrize(
    "raw",
    [{"price_max": 10**400}, {"price_min": "1e999"}, {"company_id": 2**63}, {"company_id": 10**400}],
)
def test_huge_numbers_in_filters_are_query_errors(raw: dict) -> None:
    with pytest.raises(QueryError):
        parse_filters(raw)


def test_huge_numbers_in_files_are_document_errors(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(
        f'{{"id": "a", "name": "A", "price": {10**400}}}\n'
        f'{{"id": "b", "name": "B", "company_id": {2**63}}}\n'
        '{"id": "c", "name": "C", "price": 1e999}\n'
    )
    report = load_jsonl(path, on_error="skip")
    assert [error.line for error in report.errors] == [1, 2, 3]
    assert all(error.code == "bad_field" for error in report.errors)


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"id": "a", "name": "Água"}\n{"id": "b", "name": "Bola"}\n'.encode())
    assert [doc.id for doc in load_jsonl(path).documents] == ["a", "b"]


def test_lone_surrogates_in_a_query_are_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with _index(tmp_path) as index:
        index.upsert(MINI_CATALOGUE)
        assert index.search("\ud800 camiseta").hits
    # undecodable bytes on the command line arrive as surrogates too
    products = tmp_path / "p.jsonl"
    products.write_text('{"id": "c1", "name": "Camiseta Preta"}\n')
    assert main(["index", str(products), "--store", str(tmp_path / "cli"), "--json"]) == 0
    capsys.readouterr()
    code = main(["search", "camis\udcffeta", "--store", str(tmp_path / "cli"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["results"][0]["id"] == "c1"


@pytest.mark.parametrize(
    "document",
    [
        Document("x", "Caneca", extra={"when": object()}),
        Document("x", "Caneca", attributes={"Cor": 3}),  # type: ignore[dict-item]
        Document(42, "Caneca"),  # type: ignore[arg-type]
        Document("x", ""),
        Document("x", "Caneca", price=float("nan")),
        Document("x", "Caneca", company_id=2**63),
    ],
)
def test_bad_documents_built_in_code_are_refused_before_writing(tmp_path: Path, document: Document) -> None:
    with _index(tmp_path) as index:
        index.upsert(MINI_CATALOGUE)
        with pytest.raises(DocumentError):
            index.upsert([document])
        assert index.count() == len(MINI_CATALOGUE)


def test_filters_may_be_given_as_a_mapping(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        index.upsert(MINI_CATALOGUE)
        assert set(index.search("camiseta", filters={"in_stock": False}).ids()) == {"c2"}
        with pytest.raises(QueryError):
            index.search("camiseta", filters={"colour": "red"})


def test_delete_wants_a_list_of_ids(tmp_path: Path) -> None:
    with _index(tmp_path) as index:
        index.upsert(MINI_CATALOGUE)
        with pytest.raises(InvalidInputError):
            index.delete("c1")  # type: ignore[arg-type]
        assert index.count() == len(MINI_CATALOGUE)


def test_qdrant_urls_never_leak_credentials() -> None:
    with pytest.raises(ConfigError):
        QdrantStore("http://[::1")
    store = QdrantStore("http://admin:s3cretpw@127.0.0.1:9", timeout=1)
    with pytest.raises(StoreUnavailableError) as info:
        store.list_collections()
    assert "s3cretpw" not in str(info.value) and "***@127.0.0.1" in str(info.value)
    store.close()


def test_a_store_that_fails_to_open_is_not_left_locked(tmp_path: Path) -> None:
    EdgeStore(tmp_path).close()
    (tmp_path / "aliases.json").write_text("[1, 2]")
    with pytest.raises(StoreError):
        EdgeStore(tmp_path)
    (tmp_path / "aliases.json").write_text("{}")
    EdgeStore(tmp_path).close()  # the failed attempt released the lock


def test_a_bad_cache_setting_does_not_lock_the_store(tmp_path: Path) -> None:
    settings = Settings.from_dict({"store": {"path": str(tmp_path)}, "redis_url": "redis://[::1"})
    with pytest.raises(ConfigError):
        SearchIndex(settings, embedder=HashingEmbedder())
    EdgeStore(tmp_path).close()
