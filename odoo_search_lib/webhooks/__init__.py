"""Signed outgoing webhooks: Standard Webhooks 1.0 signing, verification, SSRF-guarded delivery, retry schedule.

Both sides use this package:

* the emitter (the Odoo outbox) calls :func:`build_payload`, then :func:`deliver`
  and, when a delivery fails, :func:`next_retry_delay` to schedule the next
  attempt with the *same* ``msg_id`` (the receiver's idempotency key);
* receivers call :func:`verify` on the raw request body and headers.

Signing follows Standard Webhooks 1.0 (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>``, with
a ``whsec_<base64>`` secret whose decoded bytes are the HMAC key).

Delivery is guarded against SSRF: the URL must be ``http(s)``, its host is
resolved once, every resolved address must be public (or allow-listed), and the
connection is made to the checked IP itself (``Host`` header and TLS
``server_hostname`` keep the original name), so DNS cannot be re-bound between
the check and the connection. Redirects are never followed.
"""

from __future__ import annotations

from ..ssrf import check_url
from .delivery import LOG_EXCERPT_LIMIT, DeliveryResult, deliver, truncate_for_log
from .retry import MAX_RETRY_AFTER, RETRY_JITTER, RETRY_SCHEDULE, next_retry_delay
from .signing import (
    DEFAULT_TOLERANCE,
    EVENT_PRODUCT_CREATED,
    EVENT_PRODUCT_DELETED,
    EVENT_PRODUCT_DESCRIPTION_GENERATED,
    EVENT_PRODUCT_UPDATED,
    EVENT_TYPES,
    SECRET_PREFIX,
    build_payload,
    generate_secret,
    sign,
    signed_headers,
    verify,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_PRODUCT_CREATED",
    "EVENT_PRODUCT_DELETED",
    "EVENT_PRODUCT_DESCRIPTION_GENERATED",
    "EVENT_PRODUCT_UPDATED",
    "EVENT_TYPES",
    "MAX_RETRY_AFTER",
    "RETRY_JITTER",
    "RETRY_SCHEDULE",
    "SECRET_PREFIX",
    "DeliveryResult",
    "build_payload",
    "check_url",
    "deliver",
    "generate_secret",
    "next_retry_delay",
    "sign",
    "signed_headers",
    "truncate_for_log",
    "verify",
]
