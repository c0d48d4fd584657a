"""The Chatwoot API calls the bot makes: reply, private note, ``toggle_status``, ``toggle_typing_status``.

Every call goes through :func:`odoo_search_lib._http.guarded_request` (``requests``, SSRF guard, one
deadline, redirects never followed, so a ``302`` cannot carry the token to another host). Answers 429,
and connections that failed before anything was sent, are retried at most ``max_retries`` times,
waiting what ``Retry-After`` asks (up to ``max_retry_wait`` seconds; a longer wait fails at once with
``retry_after`` set, for the caller to schedule); so are 5xx answers and timeouts of the calls that can be
repeated (``toggle_status``, typing). A message or note whose request may have been stored by Chatwoot
(a timeout or a 5xx after it went out: a proxy's 502 can follow a message Rails saved) is never re-sent:
the error says ``uncertain`` and the caller decides. The token travels only in the ``api_access_token``
header and never appears in logs, reprs or error messages.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from .._http import guarded_request, redact, redact_url
from ..exceptions import ChatwootAPIError, ConfigError, SearchLibError, UnsafeURLError
from ..types import JSONValue
from ..webhooks.delivery import _parse_retry_after, truncate_for_log
from .events import BOT_MARKER
from .signature import header

__all__ = ["ChatwootClient", "SentMessage"]

_logger = logging.getLogger(__name__)

Status = Literal["open", "pending", "resolved", "snoozed"]
_STATUSES = frozenset({"open", "pending", "resolved", "snoozed"})
_RETRIED = frozenset({429, 500, 502, 503, 504})
#: Failures of a call after which Chatwoot cannot have acted on it (refused before, or never reached).
_NOT_DONE = frozenset({"rate_limited", "connection_failed"})
_MAX_ANSWER_BYTES = 256 * 1024
_ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "unprocessable", 429: "rate_limited"}
#: Chatwoot's limit on one message's content (``Message`` validates 150,000 characters).
MAX_MESSAGE_CHARS = 150_000


@dataclass(frozen=True)
class SentMessage:
    """What Chatwoot answered to a posted message or note."""

    id: int
    conversation_id: int
    private: bool
    content: str


class ChatwootClient:
    """Calls to one Chatwoot account with one access token (a user's, or an agent bot's).

    Agent-bot tokens may post messages and notes and call ``toggle_status``, but Chatwoot refuses them
    ``toggle_typing_status`` (``unauthorized``): use a user's token for typing indicators.
    ``allow`` lets the client reach private addresses (a self-hosted Chatwoot on the LAN), as
    :func:`odoo_search_lib.ssrf.check_url` describes.
    """

    def __init__(
        self,
        base_url: str,
        account_id: int,
        api_token: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        max_retry_wait: float = 10.0,
        allow: Iterable[str] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError("the Chatwoot base URL must start with http:// or https://", code="bad_chatwoot_url")
        if isinstance(account_id, bool) or not isinstance(account_id, int) or account_id < 1:
            raise ConfigError("the Chatwoot account id must be a positive integer", code="bad_account_id")
        if not api_token or not isinstance(api_token, str) or not api_token.isprintable():
            raise ConfigError("the Chatwoot API access token is empty or malformed", code="missing_token")
        if max_retries < 0 or timeout <= 0 or connect_timeout <= 0 or max_retry_wait < 0:
            raise ConfigError("Chatwoot timeouts must be positive and retries not negative", code="bad_timeout")
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self._token = api_token
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._allow = tuple(allow)
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"ChatwootClient({redact_url(self.base_url)!r}, account_id={self.account_id}, api_token='***')"

    # ----------------------------------------------------------------------- calls

    def send_message(self, conversation_id: int, content: str, *, reply_to: int | None = None) -> SentMessage:
        """Post a public reply, marked ``{"odoo_bot": true, "odoo_reply_to": reply_to}`` so its own
        ``message_created`` is recognised. Split long text with :func:`split_reply` first."""
        return self._post_message(conversation_id, content, private=False, reply_to=reply_to)

    def send_private_note(self, conversation_id: int, content: str) -> SentMessage:
        """Post a private note for the agents (marked like replies, so it never pauses the bot)."""
        return self._post_message(conversation_id, content, private=True, reply_to=None)

    def toggle_status(self, conversation_id: int, status: Status) -> str:
        """Set the conversation's status (``open`` hands a bot conversation to the agents) and return the
        status Chatwoot reports."""
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {sorted(_STATUSES)}")
        answer = self._call(conversation_id, "toggle_status", {"status": status}, idempotent=True)
        payload = answer.get("payload") if isinstance(answer, dict) else None
        current = payload.get("current_status") if isinstance(payload, dict) else None
        if not isinstance(current, str):
            raise ChatwootAPIError("toggle_status answered without 'payload.current_status'", code="bad_response")
        return current

    def toggle_typing_status(self, conversation_id: int, typing: Literal["on", "off"]) -> None:
        """Show (``on``) or hide (``off``) the typing indicator to the customer."""
        if typing not in ("on", "off"):
            raise ValueError("typing must be 'on' or 'off'")
        body = {"typing_status": typing, "is_private": False}
        self._call(conversation_id, "toggle_typing_status", body, idempotent=True, want_json=False)

    @contextmanager
    def typing(self, conversation_id: int) -> Iterator[None]:
        """Show the typing indicator while the block runs and always hide it afterwards, also when the
        block raises or decides not to reply. A failing indicator (a bot token, Chatwoot down) is logged
        with its code and never interrupts the block: the reply matters more than the dots."""
        self._typing_quietly(conversation_id, "on")
        try:
            yield
        finally:
            self._typing_quietly(conversation_id, "off")

    def _typing_quietly(self, conversation_id: int, typing: Literal["on", "off"]) -> None:
        try:
            self.toggle_typing_status(conversation_id, typing)
        except SearchLibError as exc:  # an unsafe or unresolvable URL included: never the reply's fault
            _logger.warning("Chatwoot typing %s failed (%s): %s", typing, exc.code, exc.message)

    # ----------------------------------------------------------------------- plumbing

    def _post_message(self, conversation_id: int, content: str, *, private: bool, reply_to: int | None) -> SentMessage:
        if not isinstance(content, str) or not content.strip():
            raise ValueError("a message needs some text")
        if len(content) > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message has at most {MAX_MESSAGE_CHARS} characters")
        attributes: dict[str, JSONValue] = {BOT_MARKER: True}
        if reply_to is not None:
            attributes["odoo_reply_to"] = int(reply_to)
        body = {
            "content": content,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
            "content_attributes": attributes,
        }
        answer = self._call(conversation_id, "messages", body, idempotent=False)
        if not isinstance(answer, dict) or isinstance(answer.get("id"), bool) or not isinstance(answer.get("id"), int):
            raise ChatwootAPIError(
                "the message was posted but the answer has no message 'id'", code="bad_response", uncertain=True
            )
        text = answer.get("content")
        return SentMessage(
            id=answer["id"],
            conversation_id=conversation_id,
            private=bool(answer.get("private", private)),
            content=text if isinstance(text, str) else content,
        )

    def _call(
        self,
        conversation_id: int,
        action: str,
        body: Mapping[str, JSONValue],
        *,
        idempotent: bool,
        want_json: bool = True,
    ) -> JSONValue:
        if isinstance(conversation_id, bool) or not isinstance(conversation_id, int) or conversation_id < 1:
            raise ValueError("conversation_id must be a positive integer")
        path = f"/api/v1/accounts/{self.account_id}/conversations/{conversation_id}/{action}"
        where = f"Chatwoot {action} ({redact_url(self.base_url)}, conversation {conversation_id})"
        headers = {
            "api_access_token": self._token,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        data = json.dumps(body).encode("utf-8")
        attempt = 0
        while True:
            failure = self._attempt(path, where, headers, data)
            if isinstance(failure, ChatwootAPIError):
                retryable = failure.code in _NOT_DONE or (idempotent and failure.code in ("unavailable", "timeout"))
                failure.uncertain = not idempotent and failure.code in ("unavailable", "timeout")
                wait = failure.retry_after if failure.retry_after is not None else min(0.5 * 2**attempt, 4.0)
                if not retryable or attempt >= self.max_retries or wait > self.max_retry_wait:
                    raise failure
                attempt += 1
                time.sleep(wait)
                continue
            status, raw = failure
            if not want_json:
                return None
            try:
                return json.loads(raw)
            except ValueError:
                raise ChatwootAPIError(
                    redact(f"{where} answered HTTP {status} with something that is not JSON", [self._token]),
                    code="bad_response",
                    status=status,
                    uncertain=not idempotent,
                ) from None

    def _attempt(
        self, path: str, where: str, headers: Mapping[str, str], data: bytes
    ) -> ChatwootAPIError | tuple[int, bytes]:
        """One request: ``(status, body)`` for a 2xx answer, else the error to raise or retry."""
        try:
            answer = guarded_request(
                "POST",
                self.base_url + path,
                error=ChatwootAPIError,
                body=data,
                headers=headers,
                allow=self._allow,
                connect_timeout=self.connect_timeout,
                timeout=self.timeout,
                ssl_context=self._ssl_context,
                max_bytes=_MAX_ANSWER_BYTES,
            )
        except ChatwootAPIError as exc:  # timeout, connection_failed, request_failed
            code = "unavailable" if exc.code == "request_failed" else exc.code
            return ChatwootAPIError(redact(f"{where}: {exc.message}", [self._token]), code=code)
        except UnsafeURLError as exc:
            if exc.code != "unresolvable":
                raise  # a private or forbidden address: configuration, not an outage
            # DNS failed before any connection: nothing was sent, like a refused connection
            return ChatwootAPIError(redact(f"{where}: {exc.message}", [self._token]), code="connection_failed")
        status = answer.status
        if 200 <= status < 300:
            return status, answer.body
        excerpt = truncate_for_log(answer.body.decode("utf-8", "replace"), 300)
        if 300 <= status < 400:
            location = truncate_for_log(header(answer.headers, "Location") or "", 200)
            message = f"{where}: HTTP {status}: redirect to {redact_url(location)!r} refused"
            return ChatwootAPIError(redact(message, [self._token]), code="redirect_refused", status=status)
        code = _ERROR_CODES.get(status, "unavailable" if status >= 500 else "unprocessable")
        retry_after = _parse_retry_after(header(answer.headers, "Retry-After")) if status in _RETRIED else None
        return ChatwootAPIError(
            redact(f"{where}: HTTP {status}: {excerpt}", [self._token]),
            code=code,
            status=status,
            retry_after=retry_after,
        )
