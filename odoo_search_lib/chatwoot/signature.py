"""Chatwoot delivery signatures (Chatwoot 4.11.2+ account webhooks, 4.13.0+ agent bots and API inboxes).

``X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`` with the Unix time in
``X-Chatwoot-Timestamp``; a delivery is accepted when the signature matches (constant-time comparison) and
the timestamp is within :data:`TOLERANCE` seconds of our clock, both ways.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from ..exceptions import ChatwootVerificationError, ConfigError

__all__ = ["TOLERANCE", "delivery_id", "header", "sign_delivery", "verify_signature"]

#: Seconds a signed timestamp may differ from our clock (Chatwoot #13573: "older than ~5 min").
TOLERANCE = 300
#: A delivery id longer than this is refused (Chatwoot sends a 36-character UUID).
MAX_DELIVERY_ID_CHARS = 200
#: A timestamp header longer than this is not a Unix time.
_MAX_TIMESTAMP_CHARS = 20


def sign_delivery(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Chatwoot-Signature`` value Chatwoot sends for ``body`` at ``timestamp``: ``sha256=<hex>``."""
    if not secret:
        raise ConfigError("the Chatwoot webhook secret is empty", code="missing_secret")
    message = str(int(timestamp)).encode("ascii") + b"." + bytes(body)
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in ``headers``, whatever the case of its key, or ``None``."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> int:
    """Check ``X-Chatwoot-Signature`` and ``X-Chatwoot-Timestamp`` of a delivery and return its timestamp.

    ``body`` must be the exact bytes received. Raises :class:`ChatwootVerificationError` with code
    ``missing_signature``, ``bad_signature``, ``missing_timestamp``, ``bad_timestamp`` or ``stale_timestamp``
    (older or newer than ``tolerance`` seconds), and :class:`ConfigError` for an empty secret.
    """
    if not secret:
        raise ConfigError("the Chatwoot webhook secret is empty", code="missing_secret")
    signature = header(headers, "X-Chatwoot-Signature")
    if not signature:
        raise ChatwootVerificationError(
            "the delivery is not signed (no X-Chatwoot-Signature)", code="missing_signature"
        )
    raw_timestamp = header(headers, "X-Chatwoot-Timestamp")
    if not raw_timestamp:
        raise ChatwootVerificationError("the delivery has no X-Chatwoot-Timestamp", code="missing_timestamp")
    raw_timestamp = raw_timestamp.strip()
    if len(raw_timestamp) > _MAX_TIMESTAMP_CHARS or not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise ChatwootVerificationError("X-Chatwoot-Timestamp is not a Unix time", code="bad_timestamp")
    timestamp = int(raw_timestamp)
    expected = sign_delivery(secret, body, timestamp)
    given = signature.strip().lower()
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise ChatwootVerificationError("X-Chatwoot-Signature does not match the body", code="bad_signature")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise ChatwootVerificationError(
            f"X-Chatwoot-Timestamp is {int(clock - timestamp)} s from our clock (tolerance {tolerance} s)",
            code="stale_timestamp",
        )
    return timestamp


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """``X-Chatwoot-Delivery`` (the same across Chatwoot's retries), or ``None`` when absent.

    Raises :class:`ChatwootVerificationError` (``bad_delivery_id``) for a value that is too long or holds
    anything but printable ASCII.
    """
    value = header(headers, "X-Chatwoot-Delivery")
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_DELIVERY_ID_CHARS or not value.isascii() or not value.isprintable():
        raise ChatwootVerificationError("X-Chatwoot-Delivery is not a delivery id", code="bad_delivery_id")
    return value
