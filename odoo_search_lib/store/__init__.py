"""Vector stores: the embedded engine (default) and a Qdrant server or cluster."""

from __future__ import annotations

from ..config import StoreSettings
from ..exceptions import ConfigError
from .base import PAYLOAD_SCHEMA, Point, ScoredPoint, SignalQuery, VectorStore, point_id

__all__ = ["PAYLOAD_SCHEMA", "Point", "ScoredPoint", "SignalQuery", "VectorStore", "open_store", "point_id"]


def open_store(settings: StoreSettings) -> VectorStore:
    """Open the store ``settings.backend`` names; the caller closes it."""
    settings.validate()
    if settings.backend == "edge":
        if not settings.path:
            raise ConfigError("store.path is required for the embedded store (a directory it may own)")
        from .edge import EdgeStore

        return EdgeStore(settings.path, quantization=settings.quantization)
    from .qdrant import QdrantStore

    return QdrantStore(
        settings.url, api_key=settings.api_key, timeout=settings.timeout, quantization=settings.quantization
    )
