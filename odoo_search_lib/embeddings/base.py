"""The ``Embedder`` protocol every dense-embedding provider implements."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder", "fingerprint", "l2_normalise"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension.

    ``provider`` and ``model`` name the source of the vectors; ``dim`` is
    known before the first call (so collections can be created up front).
    """

    provider: str
    model: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array, one normalised row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Return a ``(dim,)`` float32 normalised vector for a search query."""
        ...


def fingerprint(embedder: Embedder) -> str:
    """A short name for the vector space, safe in collection names.

    Two embedders with the same fingerprint produce comparable vectors; a model
    or dimension change gives a new fingerprint and so a new collection.
    """
    model = re.sub(r"[^a-z0-9]+", "-", f"{embedder.provider}-{embedder.model}".lower()).strip("-")
    # The readable part is cut and loses punctuation, so two models could share it ("org/m" and "org-m",
    # or long names with one prefix): a digest of the exact provider and model keeps them apart.
    digest = hashlib.sha256(f"{embedder.provider}\0{embedder.model}".encode()).hexdigest()[:8]
    return f"{model[:40].rstrip('-')}-{digest}-{embedder.dim}"


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Normalise rows to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
