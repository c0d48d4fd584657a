"""The assistant's input (a conversation) and output (a reply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Citation", "Conversation", "Message", "Reply", "ROLES"]

Role = Literal["customer", "assistant", "agent"]
ROLES = ("customer", "assistant", "agent")


@dataclass(frozen=True)
class Message:
    """One message: what the customer wrote, what the assistant answered, or what a human agent said.

    ``attachments`` lists the kinds of what came with it (``audio``, ``image``, ``video``, ``file``,
    ``location``...: Chatwoot's ``file_type``); the assistant reads text only and says so.
    """

    role: Role
    text: str
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """The messages so far, oldest first, the channel the reply goes to, and the conversation's id.

    ``id`` (a Chatwoot conversation id, say) keys the LLM call budget; empty means no budget.
    """

    messages: tuple[Message, ...]
    channel: str = "whatsapp"
    id: str = ""

    @classmethod
    def from_customer(cls, texts: list[str] | tuple[str, ...], channel: str = "whatsapp", id: str = "") -> Conversation:
        return cls(tuple(Message("customer", text) for text in texts), channel, id)


@dataclass(frozen=True)
class Citation:
    type: Literal["product", "rule"]
    id: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True)
class Reply:
    """What to send: message parts (each within the channel's limit), what they rest on, and the handoff.

    ``parts`` is empty when the assistant must stay silent (a human agent has taken over, or it
    already handed off). ``summary`` is a short note for the agent when ``handoff`` is true.
    ``mode`` says which engine produced the text (``offline``, ``llm``, or ``llm-fallback`` when
    the LLM's answer was refused and the offline answer sent instead).
    """

    parts: tuple[str, ...]
    citations: tuple[Citation, ...]
    handoff: bool
    reason: str | None
    language: str
    summary: str | None = None
    mode: str = "offline"

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)

    def to_dict(self) -> dict[str, object]:
        """The CLI's JSON shape (without the id)."""
        return {
            "reply": self.text,
            "citations": [citation.to_dict() for citation in self.citations],
            "handoff": self.handoff,
            "reason": self.reason,
            "language": self.language,
        }
