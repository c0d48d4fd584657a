"""Channel length limits, and splitting a reply at sentence boundaries to fit them."""

from __future__ import annotations

import re

__all__ = ["CHANNEL_LIMITS", "split_message"]

#: Characters per message that each Chatwoot channel accepts (WhatsApp Cloud API 4,096;
#: Instagram 1,000; Facebook Messenger 2,000; the web widget has no hard limit, we cap at 10,000).
CHANNEL_LIMITS = {
    "whatsapp": 4096,
    "instagram": 1000,
    "facebook": 2000,
    "web": 10000,
    "sms": 1600,
}
DEFAULT_LIMIT = 1000  # an unknown channel gets the strictest common limit

# The replies are short texts the assistant writes itself (or an LLM's answer), in two languages:
# a sentence ends at ., ! or ? followed by a space, or at a line break. No sentence-splitting
# package is needed for that; abbreviations merely cause an earlier (still valid) split.
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")


def split_message(text: str, channel: str = "whatsapp", limit: int | None = None) -> list[str]:
    """Split ``text`` into parts of at most the channel's limit, at sentence boundaries.

    Sentences are packed greedily; a sentence longer than the limit is cut at word
    boundaries (at the limit itself only for a single longer word).
    """
    limit = limit or CHANNEL_LIMITS.get(channel, DEFAULT_LIMIT)
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= limit:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts
