"""Pick a description writer by name."""

from __future__ import annotations

from typing import Literal

from ..config import LLMSettings
from ..exceptions import ConfigError, InvalidInputError
from .facts import (
    DescriptionWriter,
)
from .llm import LLMWriter
from .template import (
    TemplateWriter,
)


def make_writer(
    kind: Literal["template", "llm"] = "template",
    *,
    language: str = "pt_BR",
    llm_settings: LLMSettings | None = None,
) -> DescriptionWriter:
    """Build the description writer ``kind`` names.

    ``"llm"`` needs enabled ``llm_settings`` (base URL and model), else
    :class:`ConfigError`; an unknown kind or language is an
    :class:`InvalidInputError`.
    """
    if kind == "template":
        return TemplateWriter(language)
    if kind == "llm":
        if llm_settings is None or not llm_settings.enabled:
            raise ConfigError("the 'llm' description writer needs LLM settings with llm.base_url and llm.model set")
        return LLMWriter(llm_settings, language)
    raise InvalidInputError(f"unknown description writer {kind!r} (known: template, llm)")
