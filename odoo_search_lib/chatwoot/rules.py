"""When the bot acts, as pure functions: pause/hand-back state, the reply decision, bursts, dedupe keys, splitting.

The caller (the Odoo route and its job) stores one :class:`ConversationState` per conversation and, for
each delivery, does ``state = advance(state, event)`` then ``decision = should_reply(event, state)``.

Rules (PROTOCOLS.md §3):

* Only ``message_created`` + ``message_type == "incoming"`` + ``private == false`` in a ``pending``
  conversation (the bot's) is answered; never ``message_updated``.
* Our own messages carry ``{"odoo_bot": true}`` in ``content_attributes`` and change nothing.
* An outgoing message from a human (sender type ``user``, no marker) or a status change to ``open`` pauses
  the bot for that conversation. It resumes when the conversation goes from another status back to
  ``pending`` (handed back) or is resolved.
* Resolving, and handing a paused conversation back, move a watermark to the newest message seen before:
  messages at or below it are old history (a late or replayed delivery) and neither pause the bot nor get
  a reply, so a reopened or handed-back conversation starts clean (the agent's words and the bot's
  handoff are not read as "a person is talking" again); the assistant should only read messages above
  :attr:`ConversationState.history_before`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..exceptions import InvalidInputError
from .events import ChatwootEvent, ConversationEvent, IgnoredEvent, MessageEvent

__all__ = [
    "CHANNEL_LIMITS",
    "DEFAULT_BURST_WINDOW",
    "DEFAULT_CHANNEL_LIMIT",
    "MAX_BURST_CHARS",
    "MAX_BURST_MESSAGES",
    "BurstMessage",
    "BurstPlan",
    "ConversationState",
    "Decision",
    "advance",
    "channel_limit",
    "dedupe_keys",
    "plan_burst",
    "should_reply",
    "split_reply",
]

#: Characters a reply may have per channel (``conversation.channel``).
CHANNEL_LIMITS: dict[str, int] = {
    "Channel::Whatsapp": 4096,
    "Channel::Instagram": 1000,
    "Channel::FacebookPage": 2000,
    "Channel::WebWidget": 10_000,
    # WhatsApp numbers bridged by WAHA arrive as API inboxes: WhatsApp's limit applies.
    "Channel::Api": 4096,
    "Channel::Telegram": 4096,
    "Channel::TwilioSms": 1600,
}
#: Limit for a channel not listed above: the smallest one, which every channel accepts.
DEFAULT_CHANNEL_LIMIT = 1000
#: Seconds of quiet that close a burst of customer messages.
DEFAULT_BURST_WINDOW = 3.0
#: A burst keeps at most this many of its newest messages...
MAX_BURST_MESSAGES = 20
#: ...and at most this many characters of their joined text (the newest text is kept).
MAX_BURST_CHARS = 4000


# --------------------------------------------------------------------------- conversation state


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers about one conversation between deliveries (store it; start from the default).

    ``paused`` with ``pause_reason`` (``agent_replied`` or ``opened``); ``status``: the last status seen;
    ``last_message_id``: the newest message id seen; ``history_before``: messages with an id at or below it
    are old history (set when the conversation is resolved or a paused one is handed back).
    """

    paused: bool = False
    pause_reason: str = ""
    status: str = "pending"
    last_message_id: int = 0
    history_before: int = 0


@dataclass(frozen=True)
class Decision:
    """Whether to answer a delivery, and why (``reason`` is machine-readable: ``reply``, ``not_a_message``,
    ``message_updated``, ``not_incoming``, ``private``, ``not_pending``, ``bot_paused``, ``old_message``)."""

    reply: bool
    reason: str


def advance(state: ConversationState, event: ChatwootEvent) -> ConversationState:
    """The state after ``event`` (pure: ``state`` is not changed)."""
    if isinstance(event, IgnoredEvent):
        return state
    if isinstance(event, ConversationEvent):
        return _status_change(state, event.status, event.event == "conversation_resolved")
    if event.event != "message_created" or event.id <= state.history_before:
        return state  # message_updated never acts; old history changes nothing
    newest = max(state.last_message_id, event.id)
    sender_type = event.sender.type if event.sender else ""
    if event.message_type == "outgoing" and sender_type == "user" and not event.is_ours:
        return replace(
            state, paused=True, pause_reason="agent_replied", status=event.conversation.status, last_message_id=newest
        )
    # The status this message shows applies first: a hand-back it reveals puts the watermark below it.
    return replace(_status_change(state, event.conversation.status, False), last_message_id=newest)


def _status_change(state: ConversationState, status: str, resolved: bool) -> ConversationState:
    if resolved or status == "resolved":
        # Everything seen so far is history for the next time the customer writes. A second delivery
        # of the same resolve (account webhook and agent bot, or late) must not bury a newer message.
        history = state.history_before if state.status == "resolved" else state.last_message_id
        return replace(state, paused=False, pause_reason="", status="resolved", history_before=history)
    if status == "open":
        if state.paused:
            return replace(state, status=status)
        return replace(state, paused=True, pause_reason="opened", status=status)
    if status == "pending" and state.status != "pending":
        # handed back (or reopened): what the agent and the customer said meanwhile was the agent's
        history = state.last_message_id if state.paused else state.history_before
        return replace(state, paused=False, pause_reason="", status=status, history_before=history)
    return replace(state, status=status)


def should_reply(event: ChatwootEvent, state: ConversationState) -> Decision:
    """Whether the bot answers ``event``, given ``state`` *after* :func:`advance` applied it."""
    if not isinstance(event, MessageEvent):
        return Decision(False, "not_a_message")
    if event.event != "message_created":
        return Decision(False, "message_updated")
    if event.message_type != "incoming" or event.is_ours:
        return Decision(False, "not_incoming")
    if event.private:
        return Decision(False, "private")
    if event.id <= state.history_before:
        return Decision(False, "old_message")
    if event.conversation.status != "pending":
        return Decision(False, "not_pending")
    if state.paused:
        return Decision(False, "bot_paused")
    return Decision(True, "reply")


# --------------------------------------------------------------------------- dedupe


def dedupe_keys(event: ChatwootEvent, delivery: str | None = None) -> tuple[str, ...]:
    """Keys under which a delivery is remembered; a delivery whose keys were seen before is a duplicate.

    ``delivery:<X-Chatwoot-Delivery>`` when Chatwoot sent one (the same across its retries), plus one
    that names the content, so the same message sent to two URLs (account webhook and agent bot) is seen
    once: ``<event>:<message id>`` for messages, ``<event>:<conversation id>:<updated_at>`` for
    conversation events that carry ``updated_at``; none for ignored ones (which need no dedupe).
    """
    keys = [f"delivery:{delivery}"] if delivery else []
    if isinstance(event, MessageEvent):
        keys.append(f"{event.event}:{event.account_id}:{event.id}")
    elif isinstance(event, ConversationEvent) and event.updated_at is not None:
        # without ``updated_at`` two status changes of one conversation would share a key, and the second
        # would be dropped as a duplicate: such an event is deduplicated by its delivery id only
        keys.append(f"{event.event}:{event.account_id or 0}:{event.conversation.id}:{event.updated_at!r}")
    return tuple(keys)


# --------------------------------------------------------------------------- bursts


@dataclass(frozen=True)
class BurstMessage:
    """A customer message waiting for an answer: its id, when it arrived (seconds, any clock), its text."""

    message_id: int
    received_at: float
    content: str


@dataclass(frozen=True)
class BurstPlan:
    """What to do with the waiting messages of one conversation.

    ``ready``: the burst is closed (``window`` seconds of quiet), answer it now; else wait ``wait`` seconds
    and plan again. ``message_ids`` are the messages answered, ``text`` their joined content (newest kept
    when capped), ``dropped`` how many older messages of the burst were left out, ``last_id`` the newest id.
    """

    ready: bool
    wait: float
    message_ids: tuple[int, ...]
    text: str
    dropped: int

    @property
    def last_id(self) -> int:
        return self.message_ids[-1] if self.message_ids else 0

    def superseded_by(self, newest_message_id: int) -> bool:
        """Whether a reply written for this burst is stale: a newer customer message has arrived."""
        return newest_message_id > self.last_id


def plan_burst(pending: Sequence[BurstMessage], *, now: float, window: float = DEFAULT_BURST_WINDOW) -> BurstPlan:
    """Group the unanswered customer messages of one conversation into one request.

    A burst is every pending message; it closes once ``window`` seconds passed since its newest message.
    Each new message restarts the wait, so a reply is only written after the customer paused, and a reply
    in progress is dropped when :meth:`BurstPlan.superseded_by` says a newer message came.
    """
    if not window >= 0:
        raise InvalidInputError("the burst window must be zero or more seconds", code="bad_burst_window")
    if not pending:
        return BurstPlan(ready=False, wait=0.0, message_ids=(), text="", dropped=0)
    ordered = sorted(pending, key=lambda message: message.message_id)
    newest_arrival = max(message.received_at for message in ordered)
    quiet = now - newest_arrival
    kept = ordered[-MAX_BURST_MESSAGES:]
    texts: list[str] = []
    used = 0
    for message in reversed(kept):
        text = message.content.strip()
        if used + len(text) > MAX_BURST_CHARS:
            text = text[len(text) - (MAX_BURST_CHARS - used) :] if used < MAX_BURST_CHARS else ""
        used += len(text)
        texts.append(text)
    joined = "\n".join(text for text in reversed(texts) if text)
    return BurstPlan(
        ready=quiet >= window,
        wait=max(0.0, window - quiet),
        message_ids=tuple(message.message_id for message in kept),
        text=joined,
        dropped=len(ordered) - len(kept),
    )


# --------------------------------------------------------------------------- splitting

_PARAGRAPH_END = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def channel_limit(channel: str) -> int:
    """Characters a reply may have on ``channel`` (e.g. ``Channel::Whatsapp`` → 4096)."""
    return CHANNEL_LIMITS.get(channel, DEFAULT_CHANNEL_LIMIT)


def split_reply(text: str, channel: str = "", *, limit: int | None = None) -> list[str]:
    """Cut ``text`` into messages no longer than the channel's limit (or ``limit``).

    Cuts fall between paragraphs (blank lines are kept inside a message) or sentences (after ``. ! ? …``)
    and, for a sentence longer than the limit, between words; only a single word longer than the limit
    (a long URL) is cut inside.
    Whitespace-only text gives no message.
    """
    size = channel_limit(channel) if limit is None else limit
    if size < 1:
        raise InvalidInputError("the message limit must be at least one character", code="bad_limit")
    parts: list[str] = []
    current = ""
    for paragraph in _PARAGRAPH_END.split(text):
        separator = "\n\n"  # between paragraphs; between sentences of one paragraph, a space
        for sentence in (piece.strip() for piece in _SENTENCE_END.split(paragraph)):
            if not sentence:
                continue
            for piece in _fit(sentence, size):
                candidate = f"{current}{separator}{piece}" if current else piece
                if len(candidate) <= size:
                    current = candidate
                else:
                    parts.append(current)
                    current = piece
                separator = " "
    if current:
        parts.append(current)
    return parts


def _fit(sentence: str, size: int) -> list[str]:
    """``sentence`` as is when it fits, else cut between words (and inside words only when one is too long)."""
    if len(sentence) <= size:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= size:
            current = candidate
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces
