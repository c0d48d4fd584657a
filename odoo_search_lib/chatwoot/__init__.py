"""Chatwoot for the sales assistant: deliveries in, decisions, replies out.

Modules: :mod:`.events` (parse a delivery into typed frozen events), :mod:`.signature` (verify
``X-Chatwoot-Signature``), :mod:`.rules` (when to reply, pause and hand back, bursts, dedupe keys, reply
splitting; pure functions), :mod:`.client` (the API calls), :mod:`.testing` (a stand-in Chatwoot server
and signed deliveries for tests; import it explicitly, it is not loaded with this package).

A receiver does, per delivery: :func:`verify_signature` on the raw body, :func:`parse_event` with the
configured account id, :func:`dedupe_keys` (remember them; a known key is a duplicate), then
``state = advance(state, event)`` and ``should_reply(event, state)``; the reply job groups the waiting
messages with :func:`plan_burst`, drops a reply that :meth:`BurstPlan.superseded_by` a newer message, and
posts :func:`split_reply` parts with :class:`ChatwootClient`.
"""

from __future__ import annotations

from .client import ChatwootClient, SentMessage
from .events import (
    BOT_MARKER,
    CONVERSATION_EVENTS,
    MAX_BODY_BYTES,
    MAX_CONTENT_CHARS,
    MAX_DEPTH,
    MESSAGE_EVENTS,
    Attachment,
    ChatwootEvent,
    Conversation,
    ConversationEvent,
    IgnoredEvent,
    MessageEvent,
    Sender,
    parse_event,
)
from .rules import (
    CHANNEL_LIMITS,
    DEFAULT_BURST_WINDOW,
    DEFAULT_CHANNEL_LIMIT,
    MAX_BURST_CHARS,
    MAX_BURST_MESSAGES,
    BurstMessage,
    BurstPlan,
    ConversationState,
    Decision,
    advance,
    channel_limit,
    dedupe_keys,
    plan_burst,
    should_reply,
    split_reply,
)
from .signature import TOLERANCE, delivery_id, sign_delivery, verify_signature

__all__ = [
    "BOT_MARKER",
    "CHANNEL_LIMITS",
    "CONVERSATION_EVENTS",
    "DEFAULT_BURST_WINDOW",
    "DEFAULT_CHANNEL_LIMIT",
    "MAX_BODY_BYTES",
    "MAX_BURST_CHARS",
    "MAX_BURST_MESSAGES",
    "MAX_CONTENT_CHARS",
    "MAX_DEPTH",
    "MESSAGE_EVENTS",
    "TOLERANCE",
    "Attachment",
    "BurstMessage",
    "BurstPlan",
    "ChatwootClient",
    "ChatwootEvent",
    "Conversation",
    "ConversationEvent",
    "ConversationState",
    "Decision",
    "IgnoredEvent",
    "MessageEvent",
    "SentMessage",
    "Sender",
    "advance",
    "channel_limit",
    "dedupe_keys",
    "delivery_id",
    "parse_event",
    "plan_burst",
    "should_reply",
    "sign_delivery",
    "split_reply",
    "verify_signature",
]
