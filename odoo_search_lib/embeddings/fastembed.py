"""Local ONNX embedder through `fastembed <https://github.com/qdrant/fastembed>`_ (optional extra).

Two ways to choose the model:

* ``path``: a local folder with an ONNX model and its tokenizer files
  (``tokenizer.json``, ``tokenizer_config.json``, optionally ``config.json`` and
  ``special_tokens_map.json``), e.g. a Hugging Face repository exported to
  ONNX. Nothing is downloaded. If ``model`` also names a model fastembed
  knows, fastembed's own description of it (file name, pooling) is used;
  otherwise the folder is registered as a custom model with mean pooling (or
  the pooling a sentence-transformers ``1_Pooling/config.json`` declares).
* ``model`` alone: a model from fastembed's catalogue, taken from fastembed's
  cache or downloaded from the Hugging Face Hub. Where the hub cannot be
  reached this fails at once with an :class:`EmbeddingError` that says to set
  ``path``, instead of fastembed's minute of retries.

The model is loaded on the first call (or by :meth:`FastEmbedEmbedder.load`);
the constructor only checks the settings, so ``dim`` is known up front.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import EmbedderSettings
from ..exceptions import ConfigError, EmbeddingError
from .base import l2_normalise

__all__ = ["FastEmbedEmbedder"]

INSTALL_HINT = "pip install 'odoo-search-lib[fastembed]'"
MODEL_FILES = (
    "model.onnx",
    "onnx/model.onnx",
    "model_optimized.onnx",
    "onnx/model_optimized.onnx",
    "model_quantized.onnx",
    "onnx/model_quantized.onnx",
)
DIM_KEYS = ("hidden_size", "d_model", "dim")
HUB_PROBE_TIMEOUT = 5.0
_REGISTRY_LOCK = threading.Lock()


class FastEmbedEmbedder:
    """Dense vectors from an ONNX model run by fastembed (``fastembed`` provider).

    ``model`` names the model (a fastembed catalogue name, or any label for a
    local folder); ``path`` is a local model folder; ``dim`` is required only
    when neither fastembed's catalogue nor the folder's ``config.json`` tells it.
    """

    provider = "fastembed"
    model: str
    dim: int

    def __init__(
        self,
        model: str = "",
        *,
        path: str = "",
        dim: int = 0,
        batch_size: int = 64,
        threads: int | None = None,
        cache_dir: str | None = None,
        timeout: float = HUB_PROBE_TIMEOUT,
    ) -> None:
        if not (model or path):
            raise ConfigError("embedder.model or embedder.path is required for the fastembed provider")
        if batch_size <= 0:
            raise ConfigError(f"embedder.batch_size must be > 0 (got {batch_size!r})")
        self.batch_size = batch_size
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.cache_dir = cache_dir
        self.timeout = timeout
        self._text_embedding, pooling_type = _import_fastembed()
        self._pooling_type = pooling_type
        self._engine: Any = None
        self._lock = threading.Lock()
        known = _catalogue_dims(self._text_embedding)
        self._known = next((name for name in known if name.lower() == model.lower()), None) if model else None
        self.path = str(Path(path).expanduser().resolve()) if path else ""

        if self.path:
            folder = Path(self.path)
            if not folder.is_dir():
                raise EmbeddingError(f"embedder.path {path!r} is not a folder (it should hold a local ONNX model)")
            if not (folder / "tokenizer.json").is_file():
                raise EmbeddingError(f"embedder.path {path!r} has no tokenizer.json next to the ONNX model")
            self.model = model or folder.name
        elif self._known is None:
            raise ConfigError(
                f"fastembed does not know the model {model!r}: set embedder.path to a local ONNX model folder "
                "(see fastembed.TextEmbedding.list_supported_models() for the names it downloads itself)"
            )
        else:
            self.model = model

        if self._known is not None:
            self.dim = self._known_dim(known[self._known], dim)
            self._model_file = self._known_model_file() if self.path else ""
            self._engine_name = self._known
            self._pooling = ""  # fastembed's class for the model knows it
        else:
            self._model_file = _find_model_file(Path(self.path))
            self.dim = dim or _config_dim(Path(self.path))
            self._pooling = _pooling_of(Path(self.path))
            self._engine_name = self._custom_name()

    @classmethod
    def from_settings(cls, settings: EmbedderSettings) -> FastEmbedEmbedder:
        """Build the embedder ``settings`` describe (provider ``fastembed``)."""
        return cls(
            settings.model,
            path=settings.path,
            dim=settings.dim,
            batch_size=settings.batch_size,
            timeout=min(settings.timeout, HUB_PROBE_TIMEOUT),
        )

    def __repr__(self) -> str:
        where = f"path={self.path!r}" if self.path else "from fastembed's catalogue"
        return f"FastEmbedEmbedder(model={self.model!r}, dim={self.dim}, {where})"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit rows (empty texts become a space)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        engine = self.load()
        try:
            rows = list(engine.embed([text or " " for text in texts], batch_size=self.batch_size))
        except Exception as exc:  # onnxruntime and tokenizers raise many types
            raise EmbeddingError(f"fastembed model {self.model!r} failed to embed: {exc}") from exc
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(texts), self.dim):
            raise EmbeddingError(
                f"fastembed model {self.model!r} produced vectors of shape {vectors.shape}, "
                f"expected ({len(texts)}, {self.dim}); check embedder.dim"
            )
        return l2_normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        """Return the ``(dim,)`` unit vector of one query."""
        return self.embed_documents([text])[0]

    def load(self) -> object:
        """Load the ONNX model now (it is otherwise loaded by the first call); return fastembed's object."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._load_from_folder() if self.path else self._load_from_catalogue()
        return self._engine

    # -- construction helpers -------------------------------------------------------------------

    def _known_dim(self, native: int, dim: int) -> int:
        if dim and dim != native:
            raise ConfigError(f"embedder.dim is {dim} but fastembed's model {self._known!r} has {native} dimensions")
        return native

    def _known_model_file(self) -> str:
        description = _description(self._text_embedding, self._known or "")
        model_file = str(description.get("model_file") or "model.onnx")
        if not (Path(self.path) / model_file).is_file():
            raise EmbeddingError(
                f"embedder.path {self.path!r} has no {model_file}, the file fastembed expects for {self._known!r}; "
                "clear embedder.model to load the folder as a custom model"
            )
        return model_file

    def _custom_name(self) -> str:
        key = json.dumps([self.path, self._model_file, self.dim, self._pooling])
        return f"odoo-search-lib/local-{hashlib.sha1(key.encode()).hexdigest()[:16]}"

    # -- loading --------------------------------------------------------------------------------

    def _load_from_folder(self) -> Any:
        if self._known is None:
            self._register_custom_model()
        try:
            return self._text_embedding(
                model_name=self._engine_name,
                specific_model_path=self.path,
                threads=self.threads,
                cache_dir=self.cache_dir,
            )
        except Exception as exc:  # fastembed raises ValueError, onnxruntime its own errors
            raise EmbeddingError(f"cannot load the ONNX model in {self.path!r}: {exc}") from exc

    def _register_custom_model(self) -> None:
        from fastembed.common.model_description import ModelSource

        with _REGISTRY_LOCK:
            if self._engine_name in _catalogue_dims(self._text_embedding):
                return
            self._text_embedding.add_custom_model(
                model=self._engine_name,
                pooling=self._pooling_type[self._pooling],
                normalization=True,
                sources=ModelSource(hf=self._engine_name),
                dim=self.dim,
                model_file=self._model_file,
                description=f"local model {self.model} in {self.path}",
            )

    def _load_from_catalogue(self) -> Any:
        hint = "set embedder.path to a local folder holding the ONNX model and its tokenizer files"
        try:  # the cache first: no network, fails in a moment
            return self._text_embedding(
                model_name=self._engine_name, cache_dir=self.cache_dir, threads=self.threads, local_files_only=True
            )
        except Exception:  # not cached (or a broken cache): try downloading below
            pass
        if _hub_offline():
            raise EmbeddingError(
                f"fastembed model {self.model!r} is not in the local cache and HF_HUB_OFFLINE forbids downloading; "
                + hint
            )
        unreachable = _hub_unreachable(self.timeout)
        if unreachable:
            raise EmbeddingError(
                f"fastembed model {self.model!r} is not in the local cache and cannot be downloaded "
                f"({unreachable}); {hint}"
            )
        try:
            return self._text_embedding(model_name=self._engine_name, cache_dir=self.cache_dir, threads=self.threads)
        except Exception as exc:  # fastembed wraps download failures in ValueError
            raise EmbeddingError(f"cannot download fastembed model {self.model!r}: {exc}; {hint}") from exc


def _import_fastembed() -> tuple[Any, Any]:
    try:
        from fastembed import TextEmbedding
        from fastembed.common.model_description import PoolingType
    except ImportError as exc:
        raise ConfigError(f"the fastembed embedder needs the fastembed package: {INSTALL_HINT}") from exc
    return TextEmbedding, PoolingType


def _catalogue_dims(text_embedding: Any) -> dict[str, int]:
    return {str(item["model"]): int(item["dim"]) for item in text_embedding.list_supported_models()}


def _description(text_embedding: Any, name: str) -> dict[str, Any]:
    return next(item for item in text_embedding.list_supported_models() if item["model"] == name)


def _find_model_file(folder: Path) -> str:
    for name in MODEL_FILES:
        if (folder / name).is_file():
            return name
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.onnx"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise EmbeddingError(f"embedder.path {str(folder)!r} holds no .onnx model file")
    raise EmbeddingError(f"embedder.path {str(folder)!r} holds several ONNX files ({', '.join(found)}); keep one")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _config_dim(folder: Path) -> int:
    config = _read_json(folder / "config.json")
    for key in DIM_KEYS:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    raise ConfigError(
        f"cannot tell the dimension of the model in {str(folder)!r} (no hidden_size in its config.json): "
        "set embedder.dim"
    )


def _pooling_of(folder: Path) -> str:
    """The pooling a sentence-transformers folder declares (``1_Pooling/config.json``), mean otherwise."""
    config = _read_json(folder / "1_Pooling" / "config.json")
    if config.get("pooling_mode_cls_token"):
        return "CLS"
    if config.get("pooling_mode_lasttoken"):
        return "LAST_TOKEN"
    return "MEAN"


def _hub_offline() -> bool:
    return any(
        os.environ.get(name, "").strip().upper() in {"1", "TRUE", "YES", "ON"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _hub_unreachable(timeout: float) -> str:
    """Why the Hugging Face Hub cannot be reached ("" if a connection opens or a proxy is configured)."""
    endpoint = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    if not endpoint.hostname or urllib.request.getproxies().get(endpoint.scheme):
        return ""  # through a proxy only the download itself can tell
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=timeout):
            return ""
    except OSError as exc:
        return f"{endpoint.hostname}:{port} is unreachable: {exc}"
