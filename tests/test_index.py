"""SearchIndex: collection naming, tenant isolation, atomic reindex, writes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from odoo_search_lib import Document, Filters, IndexNotBuiltError, InvalidInputError, Settings, StoreError
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.store.qdrant import QdrantStore
from tests.conftest import MINI_CATALOGUE, HashingEmbedder


def _settings(tmp_path: Path, tenant: str = "shop") -> Settings:
    return Settings.from_dict({"tenant": tenant, "store": {"path": str(tmp_path / "store")}})


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as index:
        yield index


def test_alias_names_tenant_kind_and_model(index: SearchIndex) -> None:
    assert re.fullmatch(r"oss_shop_product_test-hashing-[0-9a-f]{8}-64", index.alias)


def test_search_before_indexing_says_so(index: SearchIndex) -> None:
    with pytest.raises(IndexNotBuiltError) as info:
        index.search("camiseta")
    assert "shop" in str(info.value) and info.value.code == "index_not_built"
    assert index.count() == 0


def test_upsert_creates_the_collection_then_updates_in_place(index: SearchIndex) -> None:
    progress: list[tuple[int, int | None]] = []
    assert index.upsert(MINI_CATALOGUE, batch_size=4, progress=lambda d, t: progress.append((d, t)), total=6) == 6
    assert progress == [(4, 6), (6, 6)]
    collection = index.collection()
    renamed = Document("c1", "Regata Esportiva", category="Roupas > Regatas", price=39.0)
    index.upsert([renamed])
    assert index.collection() == collection
    assert index.count() == 6
    assert index.search("regata", limit=1).hits[0].id == "c1"
    assert index.count(Filters(category="Roupas > Camisetas")) == 1


def test_delete_removes_and_ignores_unknown_ids(index: SearchIndex) -> None:
    index.delete(["nothing-yet"])  # no collection yet: nothing to do
    index.upsert(MINI_CATALOGUE)
    index.delete(["t1", "missing"])
    assert index.count() == 5
    assert "t1" not in index.search("tenis corrida", limit=50).ids()


def test_reindex_switches_to_a_new_collection_and_drops_the_old(index: SearchIndex) -> None:
    index.upsert(MINI_CATALOGUE)
    old = index.collection()
    new = index.reindex(MINI_CATALOGUE[:2])
    assert new != old and index.collection() == new
    assert index.store.list_collections() == [new]
    assert index.count() == 2


def test_refresh_writes_only_what_changed_in_place(index: SearchIndex) -> None:
    first = index.refresh(MINI_CATALOGUE)
    assert (first.rebuilt, first.written) == (True, 6), "no live collection: a rebuild"
    live = index.collection()
    same = index.refresh(MINI_CATALOGUE)
    assert (same.written, same.unchanged, same.deleted, same.rebuilt) == (0, 6, 0, False)
    assert index.collection() == live, "in place: no new collection"
    changed = [
        *(doc for doc in MINI_CATALOGUE if doc.id not in ("c1", "t1")),
        dataclasses.replace(MINI_CATALOGUE[0], name="Regata Básica Preta"),  # c1 renamed
        Document("z1", "Garrafa Térmica Inox", category="Casa > Cozinha", price=89.0),  # new; t1 is gone
    ]
    report = index.refresh(changed)
    assert (report.written, report.unchanged, report.deleted) == (2, 4, 1)
    assert index.count() == 6 and index.collection() == live
    assert index.search("regata", limit=1).hits[0].id == "c1"
    assert index.search("garrafa termica", limit=1).hits[0].id == "z1"
    assert "t1" not in index.search("tenis corrida", limit=50).ids()
    assert index.refresh(changed).written == 0


def test_refresh_rewrites_everything_when_the_analysis_changes(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as index:
        index.refresh(MINI_CATALOGUE)
    english = _settings(tmp_path).replace(language="en")
    with SearchIndex(english, embedder=HashingEmbedder()) as index:
        assert index.refresh(MINI_CATALOGUE).written == 6, "other stemmer and stop words: other sparse vectors"


def test_refresh_rewrites_everything_when_the_bm25_length_changes(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as index:
        index.refresh(MINI_CATALOGUE)
    longer = Settings.from_dict(
        {"tenant": "shop", "store": {"path": str(tmp_path / "store")}, "search": {"bm25_avg_len": 80}}
    )
    with SearchIndex(longer, embedder=HashingEmbedder()) as index:
        assert index.refresh(MINI_CATALOGUE).written == 6, "other length normalisation: other BM25 vectors"


def test_failed_reindex_leaves_the_live_index_untouched(index: SearchIndex) -> None:
    index.upsert(MINI_CATALOGUE)
    live = index.collection()

    def broken() -> Iterator[Document]:
        yield from MINI_CATALOGUE[:3]
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        index.reindex(broken(), batch_size=2)
    assert index.collection() == live
    assert index.store.list_collections() == [live]
    assert index.count() == 6


def test_tenants_sharing_a_server_never_share_collections() -> None:
    store = QdrantStore(":memory:")
    shop_a = SearchIndex(Settings(tenant="shop_a"), embedder=HashingEmbedder(), store=store)
    shop_b = SearchIndex(Settings(tenant="shop_b"), embedder=HashingEmbedder(), store=store)
    shop_a.upsert(MINI_CATALOGUE[:3])
    shop_b.upsert([Document("b1", "Camiseta da Loja B")])
    assert shop_a.collection() != shop_b.collection()
    assert set(shop_b.search("camiseta", limit=100).ids()) == {"b1"}
    assert "b1" not in shop_a.search("camiseta", limit=100).ids()
    store.close()


def test_a_new_model_gets_a_new_collection(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with SearchIndex(settings, embedder=HashingEmbedder(dim=64)) as index:
        index.upsert(MINI_CATALOGUE)
        store = index.store
        other = SearchIndex(settings, embedder=HashingEmbedder(dim=32), store=store)
        assert other.alias != index.alias
        with pytest.raises(IndexNotBuiltError):
            other.search("camiseta")
        other.reindex(MINI_CATALOGUE)
        assert other.count() == index.count() == 6


def test_index_persists_across_processes_lifetimes(tmp_path: Path) -> None:
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as index:
        index.upsert(MINI_CATALOGUE)
    with SearchIndex(_settings(tmp_path), embedder=HashingEmbedder()) as reopened:
        assert reopened.count() == 6
        assert reopened.search("fone bluetooth", limit=1).ids() == ["f1"]


def test_a_server_store_is_searched_through_its_alias() -> None:
    store = QdrantStore(":memory:")
    index = SearchIndex(Settings(tenant="shop_c"), embedder=HashingEmbedder(), store=store)
    with pytest.raises(IndexNotBuiltError):
        index.search("camiseta")
    index.upsert(MINI_CATALOGUE)
    first = index.collection()
    assert index.search("fone bluetooth", limit=1).ids() == ["f1"]
    index.reindex(MINI_CATALOGUE[:2])  # the alias moves; the old collection is gone
    assert index.collection() != first and not store.collection_exists(first)
    assert set(index.search("fone bluetooth", limit=10).ids()) <= {"c1", "c2"}
    store.close()


@pytest.mark.parametrize("backend", ["edge", "qdrant"])
def test_a_rebuild_in_steps_is_invisible_until_published(tmp_path: Path, backend: str) -> None:
    store = QdrantStore(":memory:") if backend == "qdrant" else None
    settings = _settings(tmp_path) if store is None else Settings(tenant="shop")
    with SearchIndex(settings, embedder=HashingEmbedder(), store=store) as index:
        index.upsert(MINI_CATALOGUE)
        live = index.collection()
        build = index.begin_build()
        assert index.builds() == [build]
        assert index.write_build(build, MINI_CATALOGUE[:2]) == 2
        index.write_build(build, MINI_CATALOGUE[:2])  # a chunk run twice (resumed after a crash)
        index.write_build(build, MINI_CATALOGUE[2:3])
        index.delete_build(build, ["c2"])
        # searches still see the live collection, whole
        assert index.collection() == live and index.count() == 6
        assert index.publish(build) == live
        assert index.collection() == build and index.count() == 2
        assert not index.store.collection_exists(live)
        assert set(index.search("camiseta", limit=10).ids()) <= {"c1", MINI_CATALOGUE[2].id}
        assert index.builds() == []
    if store is not None:
        store.close()


def test_gc_drops_abandoned_builds_only(index: SearchIndex, tmp_path: Path) -> None:
    index.upsert(MINI_CATALOGUE)
    live = index.collection()
    abandoned = index.begin_build()
    running = index.begin_build()
    # another tenant whose name starts like this one's, and another kind: never touched
    with SearchIndex(_settings(tmp_path, "shop_2"), embedder=HashingEmbedder(), store=index.store) as other:
        other_build = other.begin_build()
    rules = SearchIndex(index.settings, kind="rule", embedder=HashingEmbedder(), store=index.store)
    rules_build = rules.begin_build()
    assert index.gc(keep=[running]) == [abandoned]
    assert sorted(index.store.list_collections()) == sorted([live, running, other_build, rules_build])
    assert index.gc() == [running]
    assert index.collection() == live and index.count() == 6


def test_steps_refuse_collections_of_other_indexes(index: SearchIndex, tmp_path: Path) -> None:
    index.upsert(MINI_CATALOGUE)
    with SearchIndex(_settings(tmp_path, "shop_2"), embedder=HashingEmbedder(), store=index.store) as other:
        foreign = other.begin_build()
    for call in (
        lambda: index.write_build(foreign, MINI_CATALOGUE),
        lambda: index.publish(foreign),
        lambda: index.delete_build(foreign, ["c1"]),
        lambda: index.publish(index.collection()[:-1] + "x"),
    ):
        with pytest.raises((InvalidInputError, StoreError)):
            call()
    with pytest.raises(StoreError):
        index.write_build(index.alias + "_1_abcdef", MINI_CATALOGUE)  # well named, never created
    assert index.count() == 6


def test_an_edit_does_not_wait_for_a_build_chunk_being_embedded(tmp_path: Path) -> None:
    import threading

    release = threading.Event()
    embedding = threading.Event()

    class SlowForBuilds(HashingEmbedder):
        def embed_documents(self, texts):  # type: ignore[no-untyped-def]
            if any("lento" in text for text in texts):
                embedding.set()
                assert release.wait(10)
            return super().embed_documents(texts)

    settings = Settings.from_dict(
        {"tenant": "shop", "store": {"path": str(tmp_path / "store")}, "embedding_cache": {"enabled": False}}
    )
    with SearchIndex(settings, embedder=SlowForBuilds()) as index:
        index.upsert(MINI_CATALOGUE)
        build = index.begin_build()
        chunk = threading.Thread(target=index.write_build, args=(build, [Document("z1", "Produto lento")]))
        chunk.start()
        try:
            assert embedding.wait(10)
            done = threading.Event()
            edit = threading.Thread(target=lambda: (index.upsert([Document("z2", "Caneca rápida")]), done.set()))
            edit.start()
            # the edit is stored while the chunk is still being embedded
            assert done.wait(5), "the edit waited for the build chunk's embedding"
        finally:
            release.set()
            chunk.join(10)
        assert "z2" in index.search("caneca rapida", limit=3).ids()
        assert index.store.count(build) == 1


class RecordingEmbedder(HashingEmbedder):
    """Remembers every document text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed_documents(texts)


def _uncached(tmp_path: Path, **store: str) -> Settings:
    """Settings without the embedding cache: what is embedded shows what a rebuild wrote again."""
    return Settings.from_dict(
        {"tenant": "shop", "store": {"path": str(tmp_path / "store"), **store}, "embedding_cache": {"enabled": False}}
    )


def test_a_rebuild_starts_from_a_copy_of_the_live_collection_and_writes_only_what_changed(tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    with SearchIndex(_uncached(tmp_path), embedder=embedder) as index:
        index.reindex(MINI_CATALOGUE)
        before = index.search("camiseta algodão", limit=10).ids()
        embedder.texts.clear()
        new = index.reindex(MINI_CATALOGUE)
        assert embedder.texts == [], "no cache: the copy kept every vector"
        assert index.collection() == new and index.store.list_collections() == [new]
        assert index.search("camiseta algodão", limit=10).ids() == before
        changed = [
            *(doc for doc in MINI_CATALOGUE if doc.id not in ("c1", "t1")),
            dataclasses.replace(MINI_CATALOGUE[0], name="Regata Básica Preta"),  # c1 renamed
            Document("z1", "Garrafa Térmica Inox", category="Casa > Cozinha", price=89.0),  # new; t1 is gone
        ]
        progress: list[int] = []
        index.reindex(changed, batch_size=2, progress=lambda done, total: progress.append(done))
        assert len(embedder.texts) == 2 and progress[-1] == 6
        assert index.count() == 6
        assert index.search("regata", limit=1).hits[0].id == "c1"
        assert index.search("garrafa termica", limit=1).hits[0].id == "z1"
        assert "t1" not in index.search("tenis corrida", limit=50).ids()
        embedder.texts.clear()
        index.reindex(changed, fresh=True)
        assert len(embedder.texts) == 6, "fresh: everything again"


def test_a_rebuild_after_a_change_of_quantization_starts_empty(tmp_path: Path) -> None:
    with SearchIndex(_uncached(tmp_path, quantization="none"), embedder=HashingEmbedder()) as index:
        index.reindex(MINI_CATALOGUE)
    embedder = RecordingEmbedder()
    with SearchIndex(_uncached(tmp_path), embedder=embedder) as index:
        index.reindex(MINI_CATALOGUE)
        assert len(embedder.texts) == 6, "an int8 collection is built, not copied from a float32 one"
        embedder.texts.clear()
        index.reindex(MINI_CATALOGUE)
        assert embedder.texts == []


@pytest.mark.parametrize("backend", ["edge", "qdrant"])
def test_a_rebuild_in_steps_from_a_copy_needs_a_prune(tmp_path: Path, backend: str) -> None:
    store = QdrantStore(":memory:") if backend == "qdrant" else None
    settings = _uncached(tmp_path) if store is None else Settings(tenant="shop")
    embedder = RecordingEmbedder()
    with SearchIndex(settings, embedder=embedder, store=store) as index:
        index.upsert(MINI_CATALOGUE)
        embedder.texts.clear()
        build = index.begin_build(reuse=True)
        copied = backend == "edge"  # a Qdrant server's collections are not copied: the build starts empty
        assert index.store.count(build) == (6 if copied else 0)
        assert index.write_build(build, MINI_CATALOGUE[1:]) == (0 if copied else 5)
        assert len(embedder.texts) == (0 if copied else 5)
        assert index.prune_build(build, [doc.id for doc in MINI_CATALOGUE[1:]]) == (1 if copied else 0)
        index.publish(build)
        assert index.count() == 5 and MINI_CATALOGUE[0].id not in index.search("camiseta", limit=50).ids()
        with pytest.raises(InvalidInputError):
            index.prune_build("oss_other_collection", [])
    if store is not None:
        store.close()
