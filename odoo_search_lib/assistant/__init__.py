"""The sales assistant: answers grounded in live products and rules, with citations and handoff.

Pure Python (never imports ``odoo``). Give it a :class:`Conversation`, a catalogue port and a
rules port (:mod:`.ports`); it returns a :class:`Reply`::

    assistant = SalesAssistant(catalog, rules)               # offline, deterministic, the default
    reply = assistant.reply(Conversation.from_customer(["boa noite", "a cafeteira de 110v ainda tem?"]))
    reply.parts, reply.citations, reply.handoff, reply.reason, reply.language

With ``mode="llm"`` and :class:`~odoo_search_lib.LLMSettings`, an OpenAI-compatible model
answers through tool calls, and its text is checked against the records the tools returned
(:mod:`.grounding`); anything unsupported sends the offline answer instead.
"""

from __future__ import annotations

import datetime as dt

from ..config import LLMSettings
from ..exceptions import ConfigError
from .adapters import FileShop, IndexCatalog, IndexRules, load_rules, port_rule
from .channels import CHANNEL_LIMITS, split_message
from .grounding import Facts, Unsupported, unsupported_claims
from .language import detect_language, format_money
from .offline import AssistantSettings, OfflineAssistant
from .ports import CatalogPort, ProductInfo, ProductMatch, Rule, RuleMatch, RulesPort, Variant
from .types import Citation, Conversation, Message, Reply

__all__ = [
    "CHANNEL_LIMITS",
    "AssistantSettings",
    "CatalogPort",
    "Citation",
    "Conversation",
    "Facts",
    "FileShop",
    "IndexCatalog",
    "IndexRules",
    "Message",
    "ProductInfo",
    "ProductMatch",
    "Reply",
    "Rule",
    "RuleMatch",
    "RulesPort",
    "SalesAssistant",
    "Unsupported",
    "Variant",
    "detect_language",
    "format_money",
    "load_rules",
    "port_rule",
    "split_message",
    "unsupported_claims",
]

MODES = ("offline", "llm")


class SalesAssistant:
    """The facade: ``offline`` (default) or ``llm`` mode over the same ports and settings."""

    def __init__(
        self,
        catalog: CatalogPort,
        rules: RulesPort,
        settings: AssistantSettings | None = None,
        *,
        mode: str = "offline",
        llm: LLMSettings | None = None,
        max_llm_calls: int = 4,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"unknown assistant mode {mode!r} (use offline or llm)")
        self.offline = OfflineAssistant(catalog, rules, settings)
        self.mode = mode
        self.llm = None
        if mode == "llm":
            from .llm import LLMAssistant

            if llm is None or not llm.enabled:
                raise ConfigError("llm mode needs llm.base_url and llm.model")
            self.llm = LLMAssistant(self.offline, llm, max_calls=max_llm_calls)

    def reply(self, conversation: Conversation, *, at: dt.date | None = None) -> Reply:
        day = at or dt.date.today()
        if self.llm is not None:
            return self.llm.reply(conversation, at=day)
        return self.offline.reply(conversation, at=day)
