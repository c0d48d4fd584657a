"""Standard Webhooks 1.0 signing and verification.

Signing follows Standard Webhooks 1.0 (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>``, with
a ``whsec_<base64>`` secret whose decoded bytes are the HMAC key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..exceptions import InvalidInputError, WebhookVerificationError

SECRET_PREFIX = "whsec_"
#: Standard Webhooks: secrets SHOULD be 24 to 64 random bytes.
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64
#: Seconds a receiver accepts between the signed timestamp and its clock, both ways.
DEFAULT_TOLERANCE = 300

EVENT_PRODUCT_CREATED = "product.created"
EVENT_PRODUCT_UPDATED = "product.updated"
EVENT_PRODUCT_DELETED = "product.deleted"
EVENT_PRODUCT_DESCRIPTION_GENERATED = "product.description_generated"
EVENT_TYPES: frozenset[str] = frozenset(
    {EVENT_PRODUCT_CREATED, EVENT_PRODUCT_UPDATED, EVENT_PRODUCT_DELETED, EVENT_PRODUCT_DESCRIPTION_GENERATED}
)


# --------------------------------------------------------------------------- signing


def generate_secret() -> str:
    """Return a new endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    """Decode a ``whsec_<base64>`` secret into its HMAC key, or raise ``WebhookVerificationError``."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise WebhookVerificationError(f"webhook secret must start with {SECRET_PREFIX!r}", code="bad_secret")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("webhook secret is not valid base64", code="bad_secret") from None
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise WebhookVerificationError(
            f"webhook secret must decode to {SECRET_MIN_BYTES}-{SECRET_MAX_BYTES} bytes, not {len(key)}",
            code="bad_secret",
        )
    return key


def _check_token(value: str, what: str) -> str:
    """Validate a header-bound token (message id, event type): printable ASCII, no spaces, bounded."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidInputError(f"{what} must be a non-empty string of at most 255 characters", code=f"bad_{what}")
    if not all("!" <= ch <= "~" for ch in value):
        raise InvalidInputError(f"{what} must be printable ASCII without spaces", code=f"bad_{what}")
    return value


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value ``v1,<base64 HMAC-SHA256>`` for one message.

    The signed content is ``"{msg_id}.{timestamp}.{body}"``; the key is the base64-decoded part of ``secret``.
    Raises :class:`WebhookVerificationError` (code ``bad_secret``) for a malformed secret.
    """
    key = _secret_key(secret)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise InvalidInputError("timestamp must be an integer number of seconds", code="bad_timestamp")
    return "v1," + _signature(key, msg_id, timestamp, bytes(body))


def signed_headers(
    secret: str,
    msg_id: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    event_type: str | None = None,
) -> dict[str, str]:
    """Return the headers of a signed delivery of ``body``.

    ``webhook-id`` is ``msg_id`` (keep it identical across retries: receivers dedupe on it),
    ``webhook-timestamp`` is ``timestamp`` (default: now, unix seconds) and ``webhook-signature``
    its ``v1`` signature. ``X-Odoo-Event`` is added when ``event_type`` is given.
    """
    _check_token(msg_id, "msg_id")
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "Content-Type": "application/json",
    }
    if event_type is not None:
        headers["X-Odoo-Event"] = _check_token(event_type, "event_type")
    return headers


def build_payload(event_type: str, data: Mapping[str, Any], *, timestamp: datetime | None = None) -> bytes:
    """Return the compact UTF-8 JSON body ``{"type": ..., "timestamp": ..., "data": {...}}``.

    ``timestamp`` defaults to now and is written as ISO-8601 UTC (``...Z``); a naive datetime is taken as UTC.
    ``event_type`` is usually one of :data:`EVENT_TYPES`; other dotted lower-case names are accepted for
    extensions. Raises :class:`InvalidInputError` for a bad type or data that is not JSON-serialisable.
    """
    _check_token(event_type, "event_type")
    if "." not in event_type or event_type != event_type.lower():
        raise InvalidInputError(
            f"event type {event_type!r} must be a dotted lower-case name such as {EVENT_PRODUCT_UPDATED!r}",
            code="bad_event_type",
        )
    if not isinstance(data, Mapping):
        raise InvalidInputError("webhook data must be a mapping", code="bad_payload")
    when = timestamp if timestamp is not None else datetime.now(timezone.utc)
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        text = json.dumps(
            {"type": event_type, "timestamp": stamp, "data": dict(data)},
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"webhook data is not JSON-serialisable: {exc}", code="bad_payload") from None
    return text.encode("utf-8")


# --------------------------------------------------------------------------- verification


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check a received webhook; return ``None`` when it is authentic and fresh.

    Header names are case-insensitive. Any ``v1,`` entry of the space-separated ``webhook-signature`` list may
    match (other versions, e.g. ``v1a,``, are ignored); comparison is constant-time. The timestamp must be
    within ``tolerance`` seconds of ``now`` (default: the clock) in both directions.

    Raises :class:`WebhookVerificationError` with ``code`` one of ``bad_secret``, ``missing_header``,
    ``empty_body``, ``bad_timestamp``, ``stale_timestamp``, ``future_timestamp``, ``bad_signature``.
    """
    key = _secret_key(secret)
    lowered = {str(name).lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        value = lowered.get(name)
        if not isinstance(value, str) or not value.strip():
            raise WebhookVerificationError(f"missing {name} header", code="missing_header")
        values[name] = value.strip()
    if not body:
        raise WebhookVerificationError("empty webhook body", code="empty_body")
    raw_ts = values["webhook-timestamp"]
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise WebhookVerificationError("webhook-timestamp is not a unix timestamp in seconds", code="bad_timestamp")
    timestamp = int(raw_ts)
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook timestamp is too old (replayed or delayed)", code="stale_timestamp")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook timestamp is too far in the future", code="future_timestamp")
    payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    expected = _signature(key, values["webhook-id"], timestamp, payload).encode("ascii")
    matched = False
    # No early exit: every candidate is compared, so timing does not tell which entry matched.
    for entry in values["webhook-signature"].split():
        version, sep, candidate = entry.partition(",")
        if sep and version == "v1" and hmac.compare_digest(expected, candidate.encode("utf-8", "replace")):
            matched = True
    if not matched:
        raise WebhookVerificationError("no valid v1 webhook signature", code="bad_signature")
