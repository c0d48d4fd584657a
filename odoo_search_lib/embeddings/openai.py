"""Embeddings from OpenAI or any server that speaks its ``POST /embeddings`` API.

Works with api.openai.com and with OpenAI-compatible servers (vLLM, Ollama,
LM Studio, text-embeddings-inference, LiteLLM...) through the official ``openai``
SDK, configured by :func:`odoo_search_lib._http.openai_client` (timeouts,
bounded retries with backoff, no redirects).

``dim`` must be known before the first call, because vector collections are
created up front: it comes from the settings, or from a small table of
OpenAI's own models. ``dimensions`` is sent to the server only to shorten a
``text-embedding-3-*`` model's vectors; other servers often refuse that
parameter, so for their models ``dim`` is only checked against the answers.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._http import call_openai, openai_client, redact_url, url_secrets
from ..config import EmbedderSettings
from ..exceptions import ConfigError, EmbeddingError
from .base import l2_normalise

__all__ = ["KNOWN_DIMS", "OpenAIEmbedder"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KNOWN_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
SHORTENABLE = frozenset({"text-embedding-3-small", "text-embedding-3-large"})


class OpenAIEmbedder:
    """Dense vectors from an OpenAI-compatible ``/embeddings`` endpoint (``openai`` provider).

    ``base_url`` is the API root (``https://api.openai.com/v1``, or e.g.
    ``http://localhost:11434/v1``); ``api_key`` is sent as a bearer token when
    set and never appears in errors or ``repr``.
    """

    provider = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        dim: int = 0,
        timeout: float = 30.0,
        max_retries: int = 3,
        batch_size: int = 64,
    ) -> None:
        if not model:
            raise ConfigError("embedder.model is required for the openai provider")
        if batch_size <= 0:
            raise ConfigError(f"embedder.batch_size must be > 0 (got {batch_size!r})")
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.dim, self._dimensions = _resolve_dim(model, dim)
        if not api_key and urllib.parse.urlsplit(self.base_url).hostname == "api.openai.com":
            raise ConfigError("embedder.api_key is required for api.openai.com")
        settings = EmbedderSettings(
            provider="openai",
            model=model,
            base_url=self.base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            batch_size=batch_size,
            dim=dim,
        )
        self._client = openai_client(settings)
        self._where = redact_url(self.url)

    @classmethod
    def from_settings(cls, settings: EmbedderSettings) -> OpenAIEmbedder:
        """Build the embedder ``settings`` describe (provider ``openai``)."""
        return cls(
            settings.model,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            api_key=settings.api_key,
            dim=settings.dim,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            batch_size=settings.batch_size,
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        base_url = redact_url(self.base_url)
        return f"OpenAIEmbedder(model={self.model!r}, base_url={base_url!r}, dim={self.dim}, api_key={key})"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit rows, ``batch_size`` texts per request."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        inputs = [text or " " for text in texts]  # the API refuses empty strings
        chunks = [
            self._embed_batch(inputs[start : start + self.batch_size])
            for start in range(0, len(inputs), self.batch_size)
        ]
        return l2_normalise(np.vstack(chunks))

    def embed_query(self, text: str) -> np.ndarray:
        """Return the ``(dim,)`` unit vector of one query."""
        return self.embed_documents([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        extra: dict[str, int] = {"dimensions": self._dimensions} if self._dimensions else {}
        answer = call_openai(
            lambda: self._client.embeddings.with_raw_response.create(
                model=self.model, input=texts, encoding_format="float", **extra
            ),
            where=self._where,
            attempts=self.max_retries + 1,
            error=EmbeddingError,
            secrets=self._secrets(),
        )
        return self._parse(answer, len(texts))

    def _parse(self, answer: Any, expected: int) -> np.ndarray:
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise EmbeddingError(f"{self._where} answered without a 'data' list of embeddings")
        if len(data) != expected:
            raise EmbeddingError(f"{self._where} answered {len(data)} embedding(s) for {expected} text(s)")
        if all("index" in item for item in data):
            indexes = [item["index"] for item in data]
            if sorted(indexes) != list(range(expected)):
                raise EmbeddingError(f"{self._where} answered embeddings with indexes {indexes}, not 0..{expected - 1}")
            data = sorted(data, key=lambda item: item["index"])
        rows = [item.get("embedding") for item in data]
        for row in rows:
            if not isinstance(row, list):
                raise EmbeddingError(f"{self._where} answered an embedding that is not a list of numbers")
            if len(row) != self.dim:
                raise EmbeddingError(
                    f"{self._where} answered {len(row)}-dimensional vectors for model {self.model!r}, "
                    f"expected {self.dim} (embedder.dim)"
                )
        try:
            vectors = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise EmbeddingError(f"{self._where} answered an embedding that is not a list of numbers") from exc
        if not np.isfinite(vectors).all():
            raise EmbeddingError(f"{self._where} answered an embedding with NaN or infinite values")
        return vectors

    def _secrets(self) -> list[str]:
        return [self._api_key, *url_secrets(self.base_url)]


def _resolve_dim(model: str, dim: int) -> tuple[int, int]:
    """Return ``(dim, dimensions to request or 0)`` for ``model``."""
    name = model.rsplit("/", 1)[-1].lower()  # "openai/text-embedding-3-small" behind a proxy
    native = KNOWN_DIMS.get(name)
    if dim < 0:
        raise ConfigError(f"embedder.dim must be >= 0 (got {dim})")
    if native is None:
        if not dim:
            raise ConfigError(
                f"embedder.dim is required for the openai model {model!r}: set it to the length of the "
                f"vectors the server returns (it is only known for {', '.join(sorted(KNOWN_DIMS))})"
            )
        return dim, 0
    if not dim or dim == native:
        return native, 0
    if name not in SHORTENABLE or dim > native:
        raise ConfigError(f"embedder.dim {dim} is not possible for {model!r}: it returns {native} dimensions")
    return dim, dim
