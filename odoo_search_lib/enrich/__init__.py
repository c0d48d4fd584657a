"""Semantic product descriptions: written offline from facts or by an LLM, then fact-checked.

In Odoo a salesperson clicks "Generate semantic description" on a product; the
addon turns the record into :class:`ProductFacts` and asks a
:class:`DescriptionWriter` for a :class:`Description`:

* :class:`TemplateWriter` works offline and deterministically. It weaves every
  available fact (name, category, attributes, variants, sale and website
  descriptions, price, internal reference) into shop-like sentences in
  Brazilian Portuguese or American English, choosing among several phrasings
  with a stable hash of the product name so a catalogue does not read like
  clones.
* :class:`LLMWriter` asks an OpenAI-compatible ``/chat/completions`` endpoint
  for a description and keywords, forbidding it to invent facts.

Either way :func:`fact_check` lists every number, price, measure or colour in
the text that the facts do not support (``"R$ 99,90"`` when the price is
129.90, ``"110V"`` when the facts say 220V, an invented warranty...). Findings
never raise: the Odoo side shows them and lets the user accept or not.

Modules: :mod:`.facts` (value types, languages, prices), :mod:`.html` (plain text from HTML),
:mod:`.template` (offline writer), :mod:`.llm` (LLM writer), :mod:`.factcheck`, :mod:`.writers`
(``make_writer``); everything public is importable from ``odoo_search_lib.enrich``.
"""

from __future__ import annotations

from .factcheck import FactChecker, fact_check
from .facts import (
    LANGUAGES,
    Description,
    DescriptionWriter,
    Finding,
    FindingKind,
    ProductFacts,
    format_price,
    normalise_language,
)
from .html import strip_html
from .llm import LLMWriter
from .template import TemplateWriter, fact_keywords
from .writers import make_writer

__all__ = [
    "LANGUAGES",
    "Description",
    "DescriptionWriter",
    "FactChecker",
    "Finding",
    "FindingKind",
    "LLMWriter",
    "ProductFacts",
    "TemplateWriter",
    "fact_check",
    "fact_keywords",
    "format_price",
    "make_writer",
    "normalise_language",
    "strip_html",
]
