"""The description writer that asks an OpenAI-compatible chat-completion API, through the openai SDK."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .._http import call_openai, openai_client, redact_url, url_secrets
from ..config import LLMSettings
from ..exceptions import ConfigError, LLMError
from ._common import _clean, _fold, _unique
from .factcheck import fact_check
from .facts import (
    Description,
    ProductFacts,
    normalise_language,
)
from .html import strip_html
from .template import (
    fact_keywords,
    keyword_noise,
)

_LANGUAGE_NAMES = {"pt_BR": "Brazilian Portuguese (pt-BR)", "en_US": "American English (en-US)"}
_SYSTEM_PROMPT = """\
You write product descriptions for an online shop, used both for customers and for the shop's search engine.
Write in {language_name}.
Rules:
- Use ONLY the facts given in the user message. Never invent anything: no numbers, prices, measures, capacities,
  voltages, warranties, colours, materials, certifications, compatibility, delivery or payment terms that are not
  in the facts.
- Copy every number and measure exactly as written in the facts. Never mention the price, a discount or stock:
  the description is stored and would go stale on the next price change.
- Mention the name, the category, the attributes and the variant options when they are given.
- Plain text only: no HTML, no Markdown, no emojis. Two to five sentences.
- Keywords: 5 to 15 lower-case search terms in {language_name} that a customer could type to find this product
  (synonyms allowed, invented features not allowed).
Answer with a JSON object and nothing else: {{"description": "...", "keywords": ["...", "..."]}}"""

_FENCE_RE = re.compile(r"^\s*```(?:json|JSON)?\s*(.*?)\s*```\s*$", re.DOTALL)


class LLMWriter:
    """Descriptions from an OpenAI-compatible chat-completion endpoint (``source="llm"``).

    The request goes to ``{base_url}/chat/completions`` with the settings'
    model and temperature, ``response_format={"type": "json_object"}``, a
    system prompt that forbids inventing facts, and the facts as JSON. The
    answer is fact-checked; findings are returned in the description, never
    raised. Keywords are the model's followed by those of the facts.
    Failures (HTTP errors, timeouts, unusable answers) raise :class:`LLMError`;
    the API key never appears in errors or ``repr``.
    """

    source = "llm"

    def __init__(self, settings: LLMSettings, language: str = "pt_BR") -> None:
        if not isinstance(settings, LLMSettings) or not settings.enabled:
            raise ConfigError("the LLM description writer needs llm.base_url and llm.model to be set")
        settings.validate()
        self.language = normalise_language(language)
        self.settings = settings
        self.url = f"{settings.base_url.rstrip('/')}/chat/completions"
        self._client = openai_client(settings)
        self._where = redact_url(self.url)

    def __repr__(self) -> str:
        key = "set" if self.settings.api_key else "none"
        url = self._where
        return f"LLMWriter(model={self.settings.model!r}, url={url!r}, language={self.language!r}, api_key={key})"

    def messages(self, facts: ProductFacts) -> list[dict[str, str]]:
        """The chat messages sent for ``facts`` (system rules, then the facts as JSON)."""
        data = facts.to_dict()
        data.pop("price", None)  # volatile: a stored description holds lasting facts only
        data.pop("currency", None)
        system = _SYSTEM_PROMPT.format(language_name=_LANGUAGE_NAMES[self.language])
        user = f"Write the description in {_LANGUAGE_NAMES[self.language]}. Product facts (JSON):\n" + json.dumps(
            data, ensure_ascii=False, indent=2
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def write(self, facts: ProductFacts) -> Description:
        """Ask the model to describe ``facts`` and fact-check its answer."""
        answer = call_openai(
            lambda: self._client.chat.completions.with_raw_response.create(
                model=self.settings.model,
                temperature=self.settings.temperature,
                response_format={"type": "json_object"},
                messages=self.messages(facts),
            ),
            where=self._where,
            attempts=self.settings.max_retries + 1,
            error=LLMError,
            secrets=[self.settings.api_key, *url_secrets(self.settings.base_url)],
        )
        text, keywords = self._parse(answer)
        lasting = dataclasses.replace(facts, price=None)  # a price in the text is a finding: it would go stale
        findings = fact_check(lasting, text)
        seen = {(finding.kind, _fold(finding.value)) for finding in findings}
        for finding in fact_check(lasting, ", ".join(keywords)):
            if (finding.kind, _fold(finding.value)) not in seen:
                findings.append(finding)
        return Description(
            text=text,
            keywords=_unique([*keywords, *fact_keywords(facts)]),
            source="llm",
            findings=tuple(findings),
            language=self.language,
        )

    def _parse(self, answer: Any) -> tuple[str, list[str]]:
        where = self._where
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMError(f"{where} answered without a 'choices' list")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str) or not content.strip():
            reason = choices[0].get("finish_reason")
            raise LLMError(f"{where} answered an empty message (finish_reason={reason!r})")
        data = _loads_json_object(content)
        if data is None:
            cut = " (cut off: finish_reason='length')" if choices[0].get("finish_reason") == "length" else ""
            raise LLMError(f"the model's answer is not a JSON object{cut}: {content[:200]!r}")
        description = data.get("description")
        if not isinstance(description, str) or not description.strip():
            raise LLMError("the model's answer has no 'description' text")
        keywords = data.get("keywords")
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
            raise LLMError("the model's answer has no 'keywords' list of strings")
        text = strip_html(description) if re.search(r"</?[A-Za-z][^>]*>", description) else description.strip()
        # noise (stop words, sizes such as "GG" or "tamanho 42") is dropped before the fact check: it is never stored
        return text, [word for word in (_clean(word).lower() for word in keywords) if not keyword_noise(word)]


def _loads_json_object(content: str) -> dict[str, Any] | None:
    """Parse a JSON object from a model answer, tolerating code fences and chatter around it."""
    candidates = [content]
    fenced = _FENCE_RE.match(content)
    if fenced:
        candidates.append(fenced.group(1))
    start, end = content.find("{"), content.rfind("}")
    if 0 <= start < end:
        candidates.append(content[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None
