"""Chatwoot deliveries parsed into typed, frozen events.

:func:`parse_event` takes the raw body of a webhook or agent-bot delivery and returns a
:class:`MessageEvent` (``message_created``, ``message_updated``), a :class:`ConversationEvent`
(``conversation_status_changed``, ``conversation_resolved``, ``conversation_opened``) or an
:class:`IgnoredEvent` (any other event: acknowledged, never an error). A body that is too large, not UTF-8,
not JSON, nested too deeply or missing a required field raises :class:`ChatwootPayloadError`; an account id
other than the expected one raises :class:`ChatwootVerificationError` (``wrong_account``). Free text is cut
to fixed lengths, so no field of an event can grow with a hostile body.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Union

from ..documents import nests_deeper_than
from ..exceptions import ChatwootPayloadError, ChatwootVerificationError
from ..types import JSONValue

__all__ = [
    "BOT_MARKER",
    "CONVERSATION_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_CONTENT_CHARS",
    "MAX_DEPTH",
    "MESSAGE_EVENTS",
    "Attachment",
    "ChatwootEvent",
    "Conversation",
    "ConversationEvent",
    "IgnoredEvent",
    "MessageEvent",
    "Sender",
    "parse_event",
]

#: Bodies larger than this are refused (a real ``message_created`` is a few kB).
MAX_BODY_BYTES = 1024 * 1024
#: JSON nesting deeper than this is refused (real payloads nest 5 levels).
MAX_DEPTH = 32
#: A message's text is cut to this many characters (a customer's chat message is far shorter).
MAX_CONTENT_CHARS = 10_000
#: Names, statuses, channels, URLs and other short strings are cut to this many characters.
MAX_SHORT_CHARS = 500
#: Attachments kept per message.
MAX_ATTACHMENTS = 20
#: The key our own messages carry in ``content_attributes`` (PROTOCOLS.md §3.4).
BOT_MARKER = "odoo_bot"

MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CONVERSATION_EVENTS = frozenset({"conversation_status_changed", "conversation_resolved", "conversation_opened"})

MessageEventName = Literal["message_created", "message_updated"]
ConversationEventName = Literal["conversation_status_changed", "conversation_resolved", "conversation_opened"]


@dataclass(frozen=True)
class Sender:
    """Who wrote a message: ``type`` is ``contact``, ``user`` (a human agent), ``agent_bot``,
    ``captain_assistant`` or another string a newer Chatwoot sends; ``""`` when unknown."""

    id: int | None
    type: str
    name: str


@dataclass(frozen=True)
class Attachment:
    """One attachment: ``file_type`` (``image``, ``audio``, ``video``, ``file``, ``location``...), the
    ``data_url`` to fetch it, and ``transcribed_text`` for audio Chatwoot transcribed (``""`` otherwise)."""

    id: int | None
    file_type: str
    data_url: str
    transcribed_text: str


@dataclass(frozen=True)
class Conversation:
    """The conversation a delivery is about. ``id`` is the per-account display id used in API paths;
    ``status`` is ``open``, ``pending``, ``resolved`` or ``snoozed``; ``channel`` e.g. ``Channel::Whatsapp``;
    ``assignee_type`` is ``User``, ``AgentBot`` or ``None``."""

    id: int
    status: str
    channel: str
    inbox_id: int | None
    contact_id: int | None
    contact_name: str
    assignee_type: str | None
    assignee_id: int | None


@dataclass(frozen=True)
class MessageEvent:
    """A ``message_created`` or ``message_updated`` delivery.

    ``message_type`` is ``incoming``, ``outgoing`` or ``template``; ``content`` is cut to
    :data:`MAX_CONTENT_CHARS` (``content_truncated`` says so); ``content_attributes`` is a read-only copy;
    ``is_ours`` is true when it carries our marker ``{"odoo_bot": true}``.
    """

    event: MessageEventName
    account_id: int
    id: int
    conversation: Conversation
    message_type: str
    content_type: str
    content: str
    content_truncated: bool
    private: bool
    sender: Sender | None
    attachments: tuple[Attachment, ...]
    content_attributes: Mapping[str, JSONValue]
    created_at: str

    @property
    def is_ours(self) -> bool:
        return self.content_attributes.get(BOT_MARKER) is True


@dataclass(frozen=True)
class ConversationEvent:
    """A ``conversation_status_changed``, ``conversation_resolved`` or ``conversation_opened`` delivery.

    ``previous_status`` comes from ``changed_attributes`` when Chatwoot sent it, else ``None``;
    ``account_id`` is ``None`` when the payload does not name the account (agent-bot conversation events
    of some versions), and ``updated_at`` is Chatwoot's float timestamp of the change (used in dedupe keys).
    """

    event: ConversationEventName
    account_id: int | None
    conversation: Conversation
    previous_status: str | None
    updated_at: float | None

    @property
    def status(self) -> str:
        return self.conversation.status


@dataclass(frozen=True)
class IgnoredEvent:
    """Any other event (``conversation_created``, ``contact_updated``, typing...): acknowledged, not acted on."""

    event: str
    account_id: int | None


ChatwootEvent = Union[MessageEvent, ConversationEvent, IgnoredEvent]  # noqa: UP007 - a public alias


def parse_event(body: bytes, *, account_id: int | None = None) -> ChatwootEvent:
    """Parse the raw body of a Chatwoot delivery (verify its signature first, on these same bytes).

    With ``account_id``, a payload that names another account raises :class:`ChatwootVerificationError`
    (``wrong_account``); a message event must name one. Raises :class:`ChatwootPayloadError` for a body that
    is too large, not UTF-8, not JSON, too deep, or lacks the fields its event needs.
    """
    data = _decode(body)
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise ChatwootPayloadError("the payload has no 'event'", code="bad_payload")
    found_account = _account_id(data)
    if account_id is not None and found_account is not None and found_account != account_id:
        raise ChatwootVerificationError(
            f"the payload is for account {found_account}, not {account_id}", code="wrong_account"
        )
    if event in MESSAGE_EVENTS:
        return _message_event(data, event, found_account)  # type: ignore[arg-type]
    if event in CONVERSATION_EVENTS:
        return _conversation_event(data, event, found_account)  # type: ignore[arg-type]
    return IgnoredEvent(event=_short(event), account_id=found_account)


# --------------------------------------------------------------------------- decoding


def _decode(body: bytes) -> Mapping[str, object]:
    if not isinstance(body, (bytes, bytearray)):
        raise ChatwootPayloadError("the body must be bytes", code="bad_payload")
    if len(body) > MAX_BODY_BYTES:
        raise ChatwootPayloadError(f"the body is larger than {MAX_BODY_BYTES} bytes", code="too_large")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChatwootPayloadError(f"the body is not valid UTF-8 (byte {exc.start})", code="not_utf8") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ChatwootPayloadError("the JSON nests too deeply", code="too_deep") from None
    except ValueError as exc:
        raise ChatwootPayloadError(f"the body is not valid JSON: {exc}", code="bad_json") from None
    if nests_deeper_than(data, MAX_DEPTH):
        raise ChatwootPayloadError(f"the JSON nests deeper than {MAX_DEPTH} levels", code="too_deep")
    if not isinstance(data, dict):
        raise ChatwootPayloadError("the body must be a JSON object", code="bad_payload")
    return data


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# --------------------------------------------------------------------------- fields


def _int(value: object) -> int | None:
    """A positive database id, or ``None`` (bools, floats, strings and out-of-range numbers are not ids)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        return None
    return value


def _required_int(data: Mapping[str, object], key: str, where: str) -> int:
    value = _int(data.get(key))
    if value is None:
        raise ChatwootPayloadError(f"{where} needs a positive integer '{key}'", code="bad_payload")
    return value


def _finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: object, limit: int) -> tuple[str, bool]:
    """``value`` cut to ``limit`` characters, storable as it is: NUL removed and lone surrogates (valid
    ``\\ud800`` escapes in JSON, refused by PostgreSQL and by UTF-8 encoders) replaced by U+FFFD."""
    if not isinstance(value, str):
        return "", False
    cut = value[:limit]
    if not cut.isascii():
        cut = cut.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return cut.replace("\x00", ""), len(value) > limit


def _short(value: object) -> str:
    return _text(value, MAX_SHORT_CHARS)[0]


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _account_id(data: Mapping[str, object]) -> int | None:
    """The account a payload names: ``account.id`` (messages), ``account_id`` (older conversation payloads)
    or the account of the conversation's last message."""
    found = _int(_mapping(data.get("account")).get("id")) or _int(data.get("account_id"))
    if found is None:
        messages = _mapping(data.get("conversation") if "conversation" in data else data).get("messages")
        if isinstance(messages, list) and messages:
            found = _int(_mapping(messages[0]).get("account_id"))
    return found


def _conversation(data: Mapping[str, object], where: str) -> Conversation:
    meta = _mapping(data.get("meta"))
    contact = _mapping(meta.get("sender"))
    assignee = _mapping(meta.get("assignee"))
    assignee_type = meta.get("assignee_type")
    status = data.get("status")
    if not isinstance(status, str) or not status:
        raise ChatwootPayloadError(f"{where} needs a 'status'", code="bad_payload")
    # Current Chatwoot sends the display id as ``id``; older versions put the internal id there, while the
    # last message's ``conversation_id`` is always the display id (the one API paths take).
    messages = data.get("messages")
    display_id = None
    if isinstance(messages, list) and messages:
        display_id = _int(_mapping(messages[0]).get("conversation_id"))
    return Conversation(
        id=display_id or _required_int(data, "id", where),
        status=_short(status),
        channel=_short(data.get("channel")),
        inbox_id=_int(data.get("inbox_id")),
        contact_id=_int(contact.get("id")),
        contact_name=_short(contact.get("name")),
        assignee_type=_short(assignee_type) if isinstance(assignee_type, str) else None,
        assignee_id=_int(assignee.get("id")),
    )


def _sender(value: object) -> Sender | None:
    if not isinstance(value, dict):
        return None
    # Contacts come without a ``type`` in ``message_created`` (PROTOCOLS.md §1.2).
    kind = value.get("type")
    return Sender(
        id=_int(value.get("id")),
        type=_short(kind) if isinstance(kind, str) else "contact",
        name=_short(value.get("name")),
    )


def _attachments(value: object) -> tuple[Attachment, ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for item in value[:MAX_ATTACHMENTS]:
        item = _mapping(item)
        found.append(
            Attachment(
                id=_int(item.get("id")),
                file_type=_short(item.get("file_type")),
                data_url=_text(item.get("data_url"), 2000)[0],
                transcribed_text=_text(item.get("transcribed_text"), MAX_CONTENT_CHARS)[0],
            )
        )
    return tuple(found)


def _message_event(data: Mapping[str, object], event: MessageEventName, account_id: int | None) -> MessageEvent:
    if account_id is None:
        raise ChatwootPayloadError(f"a {event} payload needs 'account.id'", code="bad_payload")
    conversation = data.get("conversation")
    if not isinstance(conversation, dict):
        raise ChatwootPayloadError(f"a {event} payload needs a 'conversation' object", code="bad_payload")
    message_type = data.get("message_type")
    if not isinstance(message_type, str) or not message_type:
        raise ChatwootPayloadError(f"a {event} payload needs a 'message_type'", code="bad_payload")
    private = data.get("private", False)
    if not isinstance(private, bool):
        raise ChatwootPayloadError("'private' must be true or false", code="bad_payload")
    content, truncated = _text(data.get("content"), MAX_CONTENT_CHARS)
    attributes = data.get("content_attributes")
    return MessageEvent(
        event=event,
        account_id=account_id,
        id=_required_int(data, "id", f"a {event} payload"),
        conversation=_conversation(conversation, "the conversation"),
        message_type=_short(message_type),
        content_type=_short(data.get("content_type")) or "text",
        content=content,
        content_truncated=truncated,
        private=private,
        sender=_sender(data.get("sender")),
        attachments=_attachments(data.get("attachments")),
        # Depth and size are bounded by the body checks; a read-only copy keeps the event frozen.
        content_attributes=MappingProxyType(dict(attributes)) if isinstance(attributes, dict) else MappingProxyType({}),
        created_at=_short(data.get("created_at")),
    )


def _conversation_event(
    data: Mapping[str, object], event: ConversationEventName, account_id: int | None
) -> ConversationEvent:
    conversation = _conversation(data, f"a {event} payload")
    previous: str | None = None
    changed = data.get("changed_attributes")
    if isinstance(changed, list):
        for item in changed:
            status_change = _mapping(_mapping(item).get("status"))
            if isinstance(status_change.get("previous_value"), str):
                previous = _short(status_change["previous_value"])
    updated_at = data.get("updated_at")
    return ConversationEvent(
        event=event,
        account_id=account_id,
        conversation=conversation,
        previous_status=previous,
        updated_at=float(updated_at) if _finite_number(updated_at) else None,
    )
