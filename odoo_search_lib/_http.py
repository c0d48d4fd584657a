"""A small JSON-over-HTTP client with timeouts and retries (standard library only).

Used by the providers that talk to OpenAI-compatible servers (embeddings, chat
completions). Retries happen on connection errors, timeouts, 429 and 5xx, with
exponential backoff and jitter, honouring ``Retry-After`` when it is a number
of seconds. Other 4xx answers fail at once: retrying cannot fix them.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .exceptions import SearchLibError

__all__ = ["post_json", "redact_url"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    error: type[SearchLibError],
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    max_retries: int = 2,
) -> Any:
    """POST ``payload`` as JSON and return the decoded JSON answer.

    Raises ``error`` (a :class:`SearchLibError` subclass) with a message that
    names the URL and the last failure, never the request headers (they carry
    API keys).
    """
    body = json.dumps(payload).encode("utf-8")
    request_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    last_failure = "no attempt made"
    for attempt in range(max_retries + 1):
        retry_after: float | None = None
        request = urllib.request.Request(url, data=body, headers=request_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from settings
                raw = response.read(MAX_RESPONSE_BYTES + 1)
            if len(raw) > MAX_RESPONSE_BYTES:
                raise error(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise error(f"{url} answered something that is not JSON: {raw[:200]!r}") from exc
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            last_failure = f"HTTP {exc.code}: {detail}"
            if exc.code not in RETRY_STATUSES:
                raise error(f"{url} refused the request: {last_failure}") from None
            retry_after = _retry_after(exc.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last_failure = f"{type(reason).__name__}: {reason}"
        if attempt < max_retries:
            time.sleep(retry_after if retry_after is not None else _backoff(attempt))
    raise error(f"{url} failed after {max_retries + 1} attempt(s): {last_failure}")


def redact_url(url: str) -> str:
    """``url`` without credentials or query string (which may carry a password), for logs and errors."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    credentials = "***@" if parts.username or parts.password else ""
    return f"{parts.scheme}://{credentials}{host}{port}{parts.path}"


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def _retry_after(value: str | None) -> float | None:
    try:
        return min(BACKOFF_CAP, max(0.0, float(value))) if value else None
    except ValueError:
        return None
