"""Shared pytest fixtures for the library tests (no Odoo here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest

from odoo_search_lib import Document, Settings
from odoo_search_lib.embeddings import l2_normalise
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.sparse import term_id
from odoo_search_lib.text import tokenize
from tests.localhttp import Handler, LocalServer


@pytest.fixture
def local_server() -> Iterator[Callable[[Handler], LocalServer]]:
    """Start real HTTP servers on 127.0.0.1; all are closed after the test."""
    servers: list[LocalServer] = []

    def start(handler: Handler) -> LocalServer:
        server = LocalServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


class HashingEmbedder:
    """A tiny deterministic embedder for tests that need many fast index builds.

    Words are hashed into ``dim`` buckets (a bag of words): texts sharing words
    are close. It implements the library's ``Embedder`` protocol; quality tests
    use the real default model instead.
    """

    provider = "test"
    model = "hashing"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.query_calls = 0
        self.document_calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in tokenize(text):
            vector[term_id(word) % self.dim] += 1.0
        return l2_normalise(vector[None, :])[0]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.document_calls += 1
        return np.stack([self._vector(text) for text in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.query_calls += 1
        return self._vector(text)


MINI_CATALOGUE = [
    Document(
        "c1",
        "Camiseta Básica Algodão Preta",
        "Camiseta macia para o dia a dia.",
        "Roupas > Camisetas",
        {"Cor": "Preta", "Tamanho": "M"},
        49.9,
        "BRL",
        True,
        True,
        ("algodão",),
        1,
    ),
    Document(
        "c2",
        "Camiseta Dry Fit Azul",
        "Tecido leve para treinos.",
        "Roupas > Camisetas",
        {"Cor": "Azul"},
        69.9,
        "BRL",
        False,
        True,
        ("esporte",),
        1,
    ),
    Document(
        "t1",
        "Tênis de Corrida Runner",
        "Amortecimento para corrida de rua.",
        "Calçados > Tênis",
        {"Cor": "Preto", "Tamanho": "42"},
        299.0,
        "BRL",
        True,
        True,
        ("corrida",),
        None,
        website_id=1,
    ),
    Document(
        "f1",
        "Fone Bluetooth TWS",
        "Fone sem fio com estojo carregador.",
        "Eletrônicos > Fones de Ouvido",
        {"Cor": "Branco"},
        129.0,
        "BRL",
        True,
        True,
        (),
        2,
        website_id=2,
    ),
    Document(
        "k1",
        "Capa para Celular",
        "Capa de silicone.",
        "Eletrônicos > Acessórios",
        {},
        19.0,
        "BRL",
        True,
        False,
        (),
        None,
    ),
    Document(
        "n1",
        "Notebook Ultra 16GB",
        "Notebook leve para trabalhar em casa.",
        "Informática > Notebooks",
        {"Memória": "16GB"},
        4599.0,
        "BRL",
        True,
        True,
        ("home office",),
        1,
    ),
]


@pytest.fixture(scope="module")
def mini_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """A read-only SearchIndex over MINI_CATALOGUE in an embedded store, with the hashing embedder."""
    # Without the built-in synonyms: the hashing embedder's collisions are no judge of them (test_synonyms.py
    # tests synonyms on their own catalogue).
    settings = Settings.from_dict(
        {
            "tenant": "mini",
            "store": {"path": str(tmp_path_factory.mktemp("mini") / "store")},
            "synonyms": {"builtin": False},
        }
    )
    with SearchIndex(settings, embedder=HashingEmbedder()) as index:
        index.upsert(MINI_CATALOGUE)
        yield index
