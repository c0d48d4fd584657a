"""Send one signed webhook: SSRF-guarded POST, no redirects, an overall deadline, a result that carries no secret."""

from __future__ import annotations

import email.utils
import math
import ssl
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from .._http import guarded_request
from ..exceptions import DeliveryError, UnsafeURLError
from ..ssrf import _AllowList, _prepare
from .signing import signed_headers

#: Log excerpts of receiver answers are at most this many characters.
LOG_EXCERPT_LIMIT = 512
#: At most this many bytes of a receiver's answer are read (only an excerpt is kept).
_MAX_READ_BYTES = 8192
_USER_AGENT = "odoo-search-lib-webhooks/1"


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one delivery attempt (never carries secrets or request headers)."""

    status: int | None
    ok: bool
    gone: bool
    retry_after: float | None
    response_excerpt: str
    error: str | None
    duration_ms: float

    def raise_for_error(self) -> None:
        """Raise :class:`DeliveryError` (code ``gone`` for 410) unless the delivery succeeded."""
        if not self.ok:
            raise DeliveryError(self.error or f"HTTP {self.status}", code="gone" if self.gone else None)


def truncate_for_log(text: str, limit: int = LOG_EXCERPT_LIMIT) -> str:
    """Return ``text`` made safe for one log line: control/format characters replaced, at most ``limit`` chars.

    Line breaks and tabs become spaces, other non-printable characters (including bidi overrides) become
    ``U+FFFD``; a truncated text ends with ``…``.
    """
    if limit < 1:
        return ""
    cleaned = "".join(
        ch if ch.isprintable() else (" " if ch in "\r\n\t" else "\ufffd") for ch in str(text)[: limit + 1]
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds, or an HTTP-date), ``None`` when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _describe_redirect(url: str, location: str | None, allowed: _AllowList, timeout: float) -> str:
    if not location:
        return "redirect refused (no Location header)"
    target = urllib.parse.urljoin(url, location)
    try:
        _prepare(target, allowed, resolve_timeout=max(timeout, 0.1))
        verdict = "target passes the URL guard"
    except UnsafeURLError as exc:
        verdict = f"target is unsafe: {exc.code}: {exc}"
    return f"redirect refused: Location {truncate_for_log(target, 200)!r} ({verdict})"


def deliver(
    url: str,
    secret: str,
    body: bytes,
    *,
    msg_id: str,
    event_type: str | None = None,
    allow: Iterable[str] = (),
    connect_timeout: float = 5.0,
    timeout: float = 15.0,
    timestamp: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST a signed ``body`` to ``url`` once and report the outcome (does not retry; see :func:`next_retry_delay`).

    The URL is checked with the same rules as :func:`check_url` (``allow`` likewise); the host is resolved
    once and the connection goes to a checked IP, with ``Host`` and TLS ``server_hostname`` set to the
    original host, and the peer address is re-checked after connecting. Raises :class:`UnsafeURLError`
    before any connection for an unsafe target, and :class:`WebhookVerificationError` / :class:`InvalidInputError`
    for a bad secret or ``msg_id``. Everything else (refused connection, timeouts, TLS errors, non-2xx,
    redirects, which are never followed) is returned as a :class:`DeliveryResult` with ``ok=False``.

    ``connect_timeout`` bounds each connection attempt, ``timeout`` the whole delivery (resolution,
    connection, request and answer). ``ssl_context`` overrides the default verifying TLS context
    (e.g. to trust a private CA).
    """
    started = time.monotonic()
    deadline = started + timeout
    allowed = _AllowList.parse(allow)
    headers = signed_headers(secret, msg_id, body, timestamp=timestamp, event_type=event_type)
    headers.update(
        {
            "User-Agent": _USER_AGENT,
            "Accept-Encoding": "identity",
            "Connection": "close",
        }
    )

    def result(
        status: int | None = None, *, error: str | None = None, excerpt: str = "", retry_after: float | None = None
    ) -> DeliveryResult:
        return DeliveryResult(
            status=status,
            ok=status is not None and 200 <= status < 300 and error is None,
            gone=status == 410,
            retry_after=retry_after,
            response_excerpt=excerpt,
            error=error,
            duration_ms=(time.monotonic() - started) * 1000.0,
        )

    try:
        answer = guarded_request(
            "POST",
            url,
            error=DeliveryError,
            body=bytes(body),
            headers=headers,
            allow=allow,
            connect_timeout=connect_timeout,
            timeout=max(deadline - time.monotonic(), 0.001),
            ssl_context=ssl_context,
            max_bytes=_MAX_READ_BYTES,
        )
    except DeliveryError as exc:
        if exc.code == "timeout":
            return result(error=f"timed out after {timeout:g} s")
        return result(error=exc.message)
    status = answer.status
    raw = answer.body
    location = answer.headers.get("Location")
    retry_after = _parse_retry_after(answer.headers.get("Retry-After"))
    excerpt = truncate_for_log(raw.decode("utf-8", "replace"))
    error: str | None = None
    if 300 <= status < 400:
        error = _describe_redirect(url, location, allowed, deadline - time.monotonic())
    elif status == 410:
        error = "HTTP 410 Gone: the receiver asks to stop deliveries to this endpoint"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return result(status, error=error, excerpt=excerpt, retry_after=retry_after)
