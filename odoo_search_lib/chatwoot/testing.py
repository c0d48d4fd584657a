"""Test utilities: a stand-in Chatwoot on 127.0.0.1 and deliveries signed as Chatwoot signs them.

For the library's tests and the Odoo addons' tests (which import it from the installed package)::

    with StandInChatwoot(account_id=1, token="user-token") as chatwoot:
        client = ChatwootClient(chatwoot.url, 1, "user-token", allow=["127.0.0.1"])
        client.send_message(128, "Olá!")
        assert chatwoot.messages[0]["content"] == "Olá!"

    body = message_payload(message_id=9876, content="tem a cadeira ergo?")
    send_delivery(odoo_url + "/api/v1/chatwoot/webhook", body, secret="s3cret")

The server speaks the four endpoints the bot uses (``messages``, ``toggle_status``,
``toggle_typing_status``) with Chatwoot's answers and errors (401 for a bad token or a bot token on
typing, 404 for another account) and records every call; :meth:`StandInChatwoot.fail_next` queues canned
failures (401/404/422/429 with ``Retry-After``/500, or a ``302`` to another host). It is a plain
``http.server`` in a thread, written here because the package's tests helper is not installed with it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import requests

from ..types import JSONValue
from .signature import sign_delivery

__all__ = [
    "RecordedCall",
    "StandInChatwoot",
    "conversation_payload",
    "delivery_headers",
    "message_payload",
    "send_delivery",
    "sign_delivery",
]

_PATH = re.compile(r"^/api/v1/accounts/(\d+)/conversations/(\d+)/(messages|toggle_status|toggle_typing_status)$")


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received: method, path, headers (lower-case names), decoded JSON body."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: JSONValue


@dataclass
class _Failure:
    status: int
    body: JSONValue
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # only requests to this endpoint fail (None: any request)


class StandInChatwoot:
    """A Chatwoot API on an ephemeral port of 127.0.0.1 until :meth:`close`.

    ``token_kind="agent_bot"`` answers ``toggle_typing_status`` with Chatwoot's 401 for bot tokens.
    ``messages``, ``notes``, ``statuses`` and ``typing`` list what succeeded; ``calls`` every request.
    """

    def __init__(
        self, *, account_id: int = 1, token: str = "test-token", token_kind: Literal["user", "agent_bot"] = "user"
    ) -> None:
        self.account_id = account_id
        self.token = token
        self.token_kind = token_kind
        self.calls: list[RecordedCall] = []
        self.messages: list[dict[str, JSONValue]] = []
        self.notes: list[dict[str, JSONValue]] = []
        self.statuses: list[tuple[int, str]] = []
        self.typing: list[tuple[int, str]] = []
        self.conversation_status: dict[int, str] = {}
        self._failures: list[_Failure] = []
        self._next_id = 10_000
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, headers = stand_in._answer(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, raw
                )
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        location: str | None = None,
        body: JSONValue = None,
        action: Literal["messages", "toggle_status", "toggle_typing_status"] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``/``Location`` if given);
        with ``action``, only the next requests to that endpoint (the others are answered as usual)."""
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if location is not None:
            headers["Location"] = location
        default = {"error": {401: "Invalid Access Token", 404: "Resource could not be found"}.get(status, "failure")}
        with self._lock:
            self._failures.extend(
                _Failure(status, body if body is not None else default, headers, action) for _ in range(times)
            )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StandInChatwoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- Chatwoot's behaviour

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, JSONValue, dict[str, str]]:
        try:
            body: JSONValue = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        with self._lock:
            self.calls.append(RecordedCall("POST", path, headers, body))
            match = _PATH.match(path)
            action = match.group(3) if match else None
            failure = next((f for f in self._failures if f.action in (None, action)), None)
            if failure is not None:
                self._failures.remove(failure)
                return failure.status, failure.body, failure.headers
            if headers.get("api_access_token") != self.token:
                return 401, {"error": "Invalid Access Token"}, {}
            if not match or int(match.group(1)) != self.account_id or not isinstance(body, dict):
                return 404, {"error": "Resource could not be found"}, {}
            conversation, action = int(match.group(2)), match.group(3)
            if action == "toggle_typing_status":
                if self.token_kind == "agent_bot":
                    return 401, {"error": "Access to this endpoint is not authorized for bots"}, {}
                self.typing.append((conversation, str(body.get("typing_status"))))
                return 200, None, {}
            if action == "toggle_status":
                status = str(body.get("status") or "open")
                self.conversation_status[conversation] = status
                self.statuses.append((conversation, status))
                payload = {
                    "success": True,
                    "conversation_id": conversation,
                    "current_status": status,
                    "snoozed_until": None,
                }
                return 200, {"meta": {}, "payload": payload}, {}
            content = body.get("content")
            if not isinstance(content, str) or not content.strip():
                return 422, {"error": "Content can't be blank"}, {}
            self._next_id += 1
            message: dict[str, JSONValue] = {
                "id": self._next_id,
                "content": content,
                "conversation_id": conversation,
                "message_type": 1,
                "content_type": body.get("content_type", "text"),
                "content_attributes": body.get("content_attributes") or {},
                "private": bool(body.get("private", False)),
                "created_at": int(time.time()),
                "status": "sent",
                "sender": {"id": 5, "name": "Odoo Assistant", "type": self.token_kind},
            }
            (self.notes if message["private"] else self.messages).append(message)
            return 200, message, {}


# --------------------------------------------------------------------------- deliveries


def delivery_headers(
    body: bytes, *, secret: str | None = None, timestamp: int | None = None, delivery_id: str | None = None
) -> dict[str, str]:
    """The headers Chatwoot sends with ``body``: signed when ``secret`` is given (4.11.2+), with an
    ``X-Chatwoot-Delivery`` id (a new UUID unless ``delivery_id`` is given; ``""`` sends none)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if delivery_id != "":
        headers["X-Chatwoot-Delivery"] = delivery_id or str(uuid.uuid4())
    if secret is not None:
        stamp = int(time.time()) if timestamp is None else int(timestamp)
        headers["X-Chatwoot-Timestamp"] = str(stamp)
        headers["X-Chatwoot-Signature"] = sign_delivery(secret, body, stamp)
    return headers


def send_delivery(
    url: str,
    body: bytes | Mapping[str, JSONValue],
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    delivery_id: str | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST a delivery to ``url`` as Chatwoot does (``body`` is sent byte for byte; a mapping is JSON-encoded)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    headers = delivery_headers(raw, secret=secret, timestamp=timestamp, delivery_id=delivery_id)
    return requests.post(url, data=raw, headers=headers, timeout=timeout, allow_redirects=False)


def _conversation(
    conversation_id: int, status: str, channel: str, account_id: int, last_message: Mapping[str, JSONValue] | None
) -> dict[str, JSONValue]:
    return {
        "additional_attributes": {},
        "can_reply": True,
        "channel": channel,
        "id": conversation_id,
        "inbox_id": 3,
        "messages": [dict(last_message)] if last_message else [],
        "labels": [],
        "meta": {
            "sender": {"id": 42, "name": "Maria Silva", "phone_number": "+5511987654321", "type": "contact"},
            "assignee": None,
            "assignee_type": None,
            "team": None,
            "hmac_verified": False,
        },
        "status": status,
        "custom_attributes": {},
        "snoozed_until": None,
        "unread_count": 1,
        "timestamp": int(time.time()),
        "created_at": int(time.time()),
        "updated_at": time.time(),
    }


def message_payload(
    *,
    message_id: int,
    content: str = "Oi, tem a cadeira Ergo?",
    event: Literal["message_created", "message_updated"] = "message_created",
    message_type: Literal["incoming", "outgoing", "template"] = "incoming",
    sender_type: Literal["contact", "user", "agent_bot"] = "contact",
    private: bool = False,
    ours: bool = False,
    conversation_id: int = 128,
    status: str = "pending",
    channel: str = "Channel::Whatsapp",
    account_id: int = 1,
    attachments: tuple[tuple[str, str], ...] = (),
) -> dict[str, JSONValue]:
    """A ``message_created``/``message_updated`` payload shaped as Chatwoot's (PROTOCOLS.md §1.2).

    ``ours`` adds our marker to ``content_attributes``; a contact sender has no ``type``, as in Chatwoot.
    ``attachments`` are ``(file_type, transcribed_text)`` pairs (the text ``""`` when not transcribed).
    """
    attributes: dict[str, JSONValue] = {"odoo_bot": True, "odoo_reply_to": message_id - 1} if ours else {}
    sender: dict[str, JSONValue] = (
        {"id": 42, "name": "Maria Silva", "phone_number": "+5511987654321"}
        if sender_type == "contact"
        else {"id": 5 if sender_type == "agent_bot" else 7, "name": "Agent", "type": sender_type}
    )
    last_message: dict[str, JSONValue] = {
        "id": message_id,
        "content": content,
        "account_id": account_id,
        "conversation_id": conversation_id,
        "message_type": {"incoming": 0, "outgoing": 1, "template": 3}[message_type],
        "private": private,
        "content_attributes": attributes,
    }
    return {
        "account": {"id": account_id, "name": "Acme Store"},
        "additional_attributes": {},
        "content_attributes": attributes,
        "content_type": "text",
        "content": content,
        "conversation": _conversation(conversation_id, status, channel, account_id, last_message),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "id": message_id,
        "inbox": {"id": 3, "name": "WhatsApp"},
        "message_type": message_type,
        "private": private,
        "sender": sender,
        "source_id": None,
        "event": event,
        **({"attachments": _attachments(message_id, account_id, attachments)} if attachments else {}),
    }


def _attachments(message_id: int, account_id: int, kinds: tuple[tuple[str, str], ...]) -> list[JSONValue]:
    found: list[JSONValue] = []
    for number, (file_type, transcript) in enumerate(kinds, 1):
        item: dict[str, JSONValue] = {
            "id": message_id * 100 + number,
            "message_id": message_id,
            "file_type": file_type,
            "account_id": account_id,
            "data_url": f"https://chat.example.com/rails/active_storage/blobs/{message_id}-{number}",
        }
        if transcript:
            item["transcribed_text"] = transcript
        found.append(item)
    return found


def conversation_payload(
    *,
    event: Literal["conversation_status_changed", "conversation_resolved", "conversation_opened"],
    status: str,
    previous_status: str | None = None,
    conversation_id: int = 128,
    channel: str = "Channel::Whatsapp",
    account_id: int = 1,
) -> dict[str, JSONValue]:
    """A conversation event payload (``conversation.webhook_data`` + ``event``, plus ``changed_attributes``
    for ``conversation_status_changed``)."""
    last = {"id": 1, "account_id": account_id, "conversation_id": conversation_id, "message_type": 0}
    payload = _conversation(conversation_id, status, channel, account_id, last)
    if event == "conversation_status_changed":
        payload["changed_attributes"] = [{"status": {"previous_value": previous_status, "current_value": status}}]
    payload["event"] = event
    return payload
